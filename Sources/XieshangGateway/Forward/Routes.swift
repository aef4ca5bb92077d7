import XieshangAPI
import XieshangRPC

/// The pooled client of each service behind the gateway.
public struct Routes: Sendable {
    public let directory: BalancedChannel
    public let intake: BalancedChannel
    public let proposals: BalancedChannel
    public let consultation: BalancedChannel
    public let analytics: BalancedChannel
    public let notify: BalancedChannel

    public init(directory: BalancedChannel, intake: BalancedChannel, proposals: BalancedChannel,
                consultation: BalancedChannel, analytics: BalancedChannel, notify: BalancedChannel) {
        self.directory = directory
        self.intake = intake
        self.proposals = proposals
        self.consultation = consultation
        self.analytics = analytics
        self.notify = notify
    }

    /// Service name → its client, for the ``Forwarder``.
    public var byService: [String: any ClientTransport] {
        [
            Xieshang_Directory_V1_DirectoryService.name: directory,
            Xieshang_Intake_V1_IntakeService.name: intake,
            Xieshang_Proposal_V1_ProposalService.name: proposals,
            Xieshang_Consultation_V1_ConsultationService.name: consultation,
            Xieshang_Analytics_V1_AnalyticsService.name: analytics,
            Xieshang_Notify_V1_NotifyService.name: notify,
        ]
    }

    public func close() async {
        for c in [directory, intake, proposals, consultation, analytics, notify] { await c.close() }
    }
}
