import XieshangAPI
import XieshangKit
import XieshangRPC

/// Gathers a member's year from analytics, intake, proposals and consultation. A service that
/// does not answer leaves its figures at 0 and is named in `unavailable`, so one service down
/// does not take the whole summary with it.
struct MemberSummaryBuilder {
    let service: GatewayService
    let options: CallOptions

    func fill(_ summary: Xieshang_Gateway_V1_MemberSummary) async -> Xieshang_Gateway_V1_MemberSummary {
        var s = summary
        let member = s.memberId
        let from = "\(s.year)-01-01", to = "\(s.year)-12-31"
        do {
            var r = Xieshang_Analytics_V1_DutyRecordRequest()
            r.memberId = member
            r.from = from
            r.to = to
            let record = try await service.analytics.getDutyRecord(r, options: options)
            let score = record.score ?? .init()
            s.points = Double(score.points)
            s.grade = DescriptorPool.shared.enumName("xieshang.analytics.v1.Grade", score.grade.rawValue)
            s.dutyEntries = Int32(record.entries.count)
            s.fiveOnesDone = score.fiveOnesDone
            for f in record.freshness?.sources ?? [] {
                var x = Xieshang_Gateway_V1_SourceFreshness()
                x.source = f.source
                x.appliedSequence = f.appliedSequence
                x.lagEvents = f.lagEvents
                s.freshness.append(x)
            }
        } catch {
            s.unavailable.append("analytics: \(RPCError.from(error).message)")
        }
        do {
            var r = Xieshang_Intake_V1_ListItemsRequest()
            r.memberId = member
            r.receivedFrom = from
            r.receivedTo = to
            r.pageSize = 1
            s.itemsBrought = try await service.intake.listItems(r, options: options).total
            r.states = [.closed]
            s.itemsClosed = try await service.intake.listItems(r, options: options).total
        } catch {
            s.unavailable.append("intake: \(RPCError.from(error).message)")
        }
        do {
            var r = Xieshang_Proposal_V1_ListProposalsRequest()
            r.memberId = member
            r.pageSize = 200
            var token = ""
            repeat {
                r.pageToken = token
                let page = try await service.proposals.listProposals(r, options: options)
                for p in page.proposals where p.submittedOn.hasPrefix("\(s.year)-") {
                    s.proposals += 1
                    if p.number > 0 { s.proposalsRegistered += 1 }
                }
                token = page.nextPageToken
            } while !token.isEmpty
        } catch {
            s.unavailable.append("proposals: \(RPCError.from(error).message)")
        }
        do {
            var r = Xieshang_Consultation_V1_ListTopicsRequest()
            r.source = .member
            r.pageSize = 200
            var token = ""
            repeat {
                r.pageToken = token
                let page = try await service.consultation.listTopics(r, options: options)
                s.topicsSuggested += Int32(page.topics.filter {
                    $0.proposerMemberId == member && CivilDate.china(unixMilliseconds: $0.createdAtUnixMs).year == Int(s.year)
                }.count)
                token = page.nextPageToken
            } while !token.isEmpty
        } catch {
            s.unavailable.append("consultation: \(RPCError.from(error).message)")
        }
        return s
    }
}
