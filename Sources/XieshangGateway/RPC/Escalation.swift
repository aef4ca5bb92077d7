import XieshangAPI
import XieshangKit
import XieshangRPC

/// An intake item becoming a proposal draft or a consultation topic, linked both ways. The item
/// moves first, under the caller's own rights (intake decides whether it may be escalated); the
/// proposal or topic is then created on the caller's behalf by the gateway, which has already
/// checked that the caller may escalate; last the item is linked to what was created.
struct Escalation {
    let service: GatewayService
    let principal: Xieshang_Common_V1_Principal
    let callerOptions: CallOptions

    /// The gateway acting for the caller in their committee, named as the actor of the events.
    private var onBehalf: CallOptions {
        let p = Caller.systemPrincipal("\(principal.displayName)（经网关升级）", committee: principal.committeeId)
        return CallOptions(metadata: service.gate.signer.metadata(for: p), deadline: callerOptions.deadline)
    }

    func run(itemID: Int64, target: Xieshang_Gateway_V1_EscalationTarget, title: String, note: String) async throws -> Xieshang_Gateway_V1_EscalateResponse {
        var get = Xieshang_Intake_V1_GetRequest()
        get.id = itemID
        let item = try await service.intake.getItem(get, options: callerOptions)
        let kind: Xieshang_Intake_V1_EscalationKind = target == .proposalDraft ? .proposalDraft : .consultationTopic
        let raiserMember = item.raiser?.memberId ?? 0
        let member = raiserMember != 0 ? raiserMember : item.bringingMemberId
        if target == .proposalDraft && member == 0 {
            throw DomainError.notAllowed("item \(itemID) has no member to propose it; make it a consultation topic instead")
        }
        var esc = Xieshang_Intake_V1_EscalateRequest()
        esc.id = itemID
        esc.version = item.version
        esc.kind = kind
        esc.note = note
        _ = try await service.intake.escalateItem(esc, options: callerOptions)

        let heading = title.isEmpty ? String(item.text.prefix(40)) : title
        let created: Int64
        switch target {
        case .proposalDraft:
            var p = Xieshang_Proposal_V1_Proposal()
            p.proposerKind = .member
            p.leadMemberId = member
            p.session = .interim
            p.title = heading
            p.reasons = item.text
            p.suggestions = note.isEmpty ? "（待委员补充建议）" : note
            p.category = item.category
            var link = Xieshang_Proposal_V1_Link()
            link.kind = .intakeItem
            link.targetId = itemID
            p.links = [link]
            created = try await service.proposals.submitProposal(p, options: onBehalf).id
        default:
            var t = Xieshang_Consultation_V1_Topic()
            t.title = heading
            t.description = item.text
            t.category = item.category
            t.townId = item.townId
            if member != 0 {
                t.source = .member
                t.proposerMemberId = member
            } else {
                t.source = .public
            }
            let topic = try await service.consultation.proposeTopic(t, options: onBehalf)
            var link = Xieshang_Consultation_V1_LinkRequest()
            link.id = topic.id
            link.kind = .intakeItem
            link.targetId = itemID
            _ = try await service.consultation.linkTopic(link, options: onBehalf)
            created = topic.id
        }
        var back = Xieshang_Intake_V1_LinkRequest()
        back.id = itemID
        back.kind = kind
        back.targetId = created
        _ = try await service.intake.linkEscalation(back, options: callerOptions)

        var r = Xieshang_Gateway_V1_EscalateResponse()
        r.itemId = itemID
        r.target = target
        r.targetId = created
        return r
    }
}
