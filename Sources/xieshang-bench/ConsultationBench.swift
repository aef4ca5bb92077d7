import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import XieshangAPI
import XieshangConsultation
import XieshangKit
import XieshangRPC

/// `xieshang-bench consultation`: a county year of meetings, then conflict checks and free-slot
/// searches against it. Tops the committee up to `--members` members and `--venues` work stations
/// in the directory, starts `--consultations` consultations, schedules `--meetings` meetings over
/// the working days of `--year` (each booking a venue, a host and four required members; a
/// refused slot is retried elsewhere), then runs CheckConflicts and FindFreeSlots closed-loop for
/// `--seconds` each. Prints one JSON line.
struct ConsultationBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consultation", abstract: "A county year of meetings, then conflict checks and free-slot searches.")

    @Option(help: "The consultation service's port.") var port: Int
    @Option(help: "The directory's port.") var directoryPort: Int
    @Option(help: "Meetings to schedule.") var meetings = 5000
    @Option(help: "Consultations the meetings belong to.") var consultations = 500
    @Option(help: "Members the committee should have.") var members = 300
    @Option(help: "Venues (work stations) the committee should have.") var venues = 250
    @Option(help: "The year scheduled.") var year = 2026
    @Option(help: "Seconds each measured workload runs.") var seconds = 10.0
    @Option(help: "Concurrent callers.") var concurrency = 32
    @Option(help: "The committee.") var committee: Int64 = 2

    func options(_ role: Xieshang_Common_V1_Role) -> CallOptions {
        var p = Xieshang_Common_V1_Principal()
        p.committeeId = committee
        p.roles = [role]
        p.accountId = 1
        p.displayName = "专委会办公室"
        return CallOptions(metadata: Caller.metadata(for: p), timeout: 60)
    }

    /// Member and station ids of the committee, created up to the counts asked for.
    func directory() async throws -> (members: [Int64], venues: [Int64]) {
        let channel = RPCChannel(host: "127.0.0.1", port: directoryPort)
        defer { Task { await channel.close() } }
        let dir = Xieshang_Directory_V1_DirectoryServiceClient(channel: channel)
        let admin = options(.committeeAdmin)
        var memberIDs: [Int64] = []
        var mr = Xieshang_Directory_V1_ListMembersRequest()
        mr.pageSize = 1000
        repeat {
            let page = try await dir.listMembers(mr, options: admin)
            memberIDs += page.members.map(\.id)
            mr.pageToken = page.nextPageToken
        } while !mr.pageToken.isEmpty
        var sector = Xieshang_Directory_V1_ListRequest()
        sector.pageSize = 1
        let sectorID = try await dir.listSectors(sector, options: admin).sectors.first?.id ?? 0
        var i = 0
        while memberIDs.count < members {
            i += 1
            var m = Xieshang_Directory_V1_Member()
            m.code = "B\(year)-\(i)"
            m.name = "委员\(i)"
            m.sectorId = sectorID
            if let made = try? await dir.createMember(m, options: admin) { memberIDs.append(made.id) }
        }
        var venueIDs: [Int64] = []
        var wr = Xieshang_Directory_V1_ListWorkStationsRequest()
        wr.pageSize = 1000
        repeat {
            let page = try await dir.listWorkStations(wr, options: admin)
            venueIDs += page.workStations.map(\.id)
            wr.pageToken = page.nextPageToken
        } while !wr.pageToken.isEmpty
        i = 0
        while venueIDs.count < venues {
            i += 1
            var s = Xieshang_Directory_V1_WorkStation()
            s.name = "协商议事室\(year)-\(i)"
            s.level = .county
            s.kind = "协商议事室"
            venueIDs.append(try await dir.createWorkStation(s, options: admin).id)
        }
        return (Array(memberIDs.prefix(members)), Array(venueIDs.prefix(venues)))
    }

    func run() async throws {
        try BenchSigning.install()
        let (memberIDs, venueIDs) = try await directory()
        let channel = RPCChannel(host: "127.0.0.1", port: port)
        let client = Xieshang_Consultation_V1_ConsultationServiceClient(channel: channel)
        let staff = options(.committeeStaff)
        let days = (0..<366).map { CivilDate(year: year, month: 1, day: 1)!.adding(days: $0) }.filter { $0.year == year && !$0.isWeekend }

        // Consultations to hang the meetings on.
        let setupStart = DispatchTime.now().uptimeNanoseconds
        let consultationIDs = NIOLockedValueBox<[Int64]>([])
        let topics = WorkQueue((0..<Int64(consultations)).map { $0 })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while let i = topics.take() {
                        var t = Xieshang_Consultation_V1_Topic()
                        t.title = "\(ProposalBench.topics[Int(i) % ProposalBench.topics.count])专题协商（\(i)）"
                        t.source = .partyCommittee
                        let topic = try await client.proposeTopic(t, options: staff)
                        var a = Xieshang_Consultation_V1_TopicAction()
                        a.id = topic.id
                        _ = try await client.chooseTopic(a, options: staff)
                        var c = Xieshang_Consultation_V1_Consultation()
                        c.topicId = topic.id
                        c.form = i % 4 == 0 ? .thematic : .micro
                        c.level = .county
                        c.hostMemberId = memberIDs[Int(i) % memberIDs.count]
                        let made = try await client.createConsultation(c, options: staff)
                        consultationIDs.withLockedValue { $0.append(made.id) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let cids = consultationIDs.withLockedValue { $0 }

        // A year of meetings: a venue, a host and four required members each, 1–3 hours between
        // 08:30 and 17:30; a refused slot is tried elsewhere.
        let scheduled = NIOLockedValueBox((ok: 0, refused: 0))
        let work = WorkQueue((0..<Int64(meetings)).map { $0 })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<concurrency {
                group.addTask {
                    var rng = SplitMix64(seed: UInt64(w + 1) * 7919)
                    while let i = work.take() {
                        for _ in 0..<50 {
                            var m = Xieshang_Consultation_V1_Meeting()
                            m.consultationId = cids[Int(i) % cids.count]
                            let day = days[Int(i) % days.count]
                            let start = 510 + 30 * rng.below(14), length = 60 * (1 + rng.below(3))
                            m.startsAt = "\(day)T\(ChinaTime.clock(start))"
                            m.endsAt = "\(day)T\(ChinaTime.clock(min(start + length, 1050)))"
                            m.venueId = venueIDs[rng.below(venueIDs.count)]
                            m.hostMemberId = memberIDs[rng.below(memberIDs.count)]
                            m.invitations = (0..<4).map { _ in
                                var inv = Xieshang_Consultation_V1_Invitation()
                                inv.kind = .member
                                inv.memberId = memberIDs[rng.below(memberIDs.count)]
                                inv.required = true
                                return inv
                            }.reduce(into: []) { list, inv in
                                if inv.memberId != m.hostMemberId && !list.contains(where: { $0.memberId == inv.memberId }) { list.append(inv) }
                            }
                            do {
                                _ = try await client.scheduleMeeting(m, options: staff)
                                scheduled.withLockedValue { $0.ok += 1 }
                                break
                            } catch let e as RPCError where e.code == .failedPrecondition {
                                scheduled.withLockedValue { $0.refused += 1 }
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let setupSeconds = Double(DispatchTime.now().uptimeNanoseconds - setupStart) / 1e9
        let counts = scheduled.withLockedValue { $0 }

        @Sendable func people(_ rng: inout SplitMix64) -> [Int64] {
            var ids: [Int64] = []
            while ids.count < 5 {
                let m = memberIDs[rng.below(memberIDs.count)]
                if !ids.contains(m) { ids.append(m) }
            }
            return ids
        }
        let conflictsFound = NIOLockedValueBox(0)
        let conflicts = try await ClosedLoop.run(concurrency: concurrency, seconds: seconds) { worker, n in
            var rng = SplitMix64(seed: UInt64(worker * 1_000_003 + n))
            var r = Xieshang_Consultation_V1_SlotRequest()
            let day = days[rng.below(days.count)]
            let start = 510 + 30 * rng.below(14)
            r.startsAt = "\(day)T\(ChinaTime.clock(start))"
            r.endsAt = "\(day)T\(ChinaTime.clock(start + 120))"
            r.venueId = venueIDs[rng.below(venueIDs.count)]
            r.memberIds = people(&rng)
            let found = try await client.checkConflicts(r, options: staff).conflicts.count
            conflictsFound.withLockedValue { $0 += found }
        }
        let slotsFound = NIOLockedValueBox(0)
        let slots = try await ClosedLoop.run(concurrency: concurrency, seconds: seconds) { worker, n in
            var rng = SplitMix64(seed: UInt64(worker * 1_000_033 + n))
            var r = Xieshang_Consultation_V1_FreeSlotsRequest()
            let first = rng.below(days.count - 10)
            r.from = days[first].description
            r.to = days[first + 9].description
            r.durationMinutes = 120
            r.limit = 10
            r.venueId = venueIDs[rng.below(venueIDs.count)]
            r.memberIds = people(&rng)
            let found = try await client.findFreeSlots(r, options: staff).slots.count
            slotsFound.withLockedValue { $0 += found }
        }
        await channel.close()
        var out: [String: Any] = [
            "meetings": counts.ok, "refused_attempts": counts.refused, "consultations": cids.count, "members": memberIDs.count,
            "venues": venueIDs.count, "setup_seconds": setupSeconds, "working_days": days.count,
        ]
        out["conflicts"] = conflicts.figures.merging(["conflicts_found": conflictsFound.withLockedValue { $0 }]) { a, _ in a }
        out["free_slots"] = slots.figures.merging(["slots_found": slotsFound.withLockedValue { $0 }]) { a, _ in a }
        let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}
