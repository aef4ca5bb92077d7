import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// Consultation's RPC handlers: who may see what and the directory checks here, the steps in
/// ``ConsultationMachine``/``MeetingMachine``/``PlanMachine``/``TopicMachine``, scheduling in
/// ``Schedule``, persistence in ``ConsultationStore``.
public struct ConsultationService: Sendable {
    public let store: ConsultationStore
    public let directory: DirectoryLookup
    public let feed: EventFeed
    /// Milliseconds since 1970 (injectable so tests can move time).
    public let clock: @Sendable () -> Int64
    /// Working days to the results, a research report and a responsibility (随县: 3 days, a week).
    public static let resultsWorkingDays: Int32 = 3
    public static let reportWorkingDays: Int32 = 5
    public static let responsibilityWorkingDays: Int32 = 20

    public init(store: ConsultationStore, directory: DirectoryLookup, clock: @escaping @Sendable () -> Int64 = { XieshangStore.Clock.nowMilliseconds() }) {
        self.store = store
        self.directory = directory
        self.feed = EventFeed(database: store.database)
        self.clock = clock
    }

    /// Today in China Standard Time.
    var today: CivilDate { CivilDate.china(unixMilliseconds: clock()) }

    /// The date `value` names (YYYY-MM-DD), or `fallback` (today) when it is empty.
    func day(_ value: String, _ field: String, or fallback: CivilDate? = nil) throws -> CivilDate {
        try Check.day(value, field, or: fallback ?? today)
    }

    /// Staff of the committee (special committees, the office) or a service.
    static func staff(_ context: ServerContext, to action: String) throws -> Caller {
        let caller = try Caller(context: context)
        try caller.require(.committeeStaff, to: action)
        return caller
    }

    /// Roles that see everything of their committee, drafts included.
    static func overseer(_ caller: Caller) -> Bool {
        caller.has(.committeeStaff, .committeeAdmin, .leader, .prefectureAdmin, .system)
    }

    /// Applies `make`'s command to consultation `id` as `caller`.
    func transition(_ id: Int64, version: Int64, _ caller: Caller,
                    _ make: @escaping @Sendable (Consultation) throws -> ConsultationCommand) async throws -> Consultation {
        try await store.transition(id, version: version, committee: caller.committeeID, by: Participant(caller), actor: caller.actor,
                                   at: clock(), visible: { Self.canSee($0, caller) }, make)
    }

    func transition(_ id: Int64, version: Int64, _ caller: Caller, _ command: ConsultationCommand) async throws -> Consultation {
        try await transition(id, version: version, caller) { _ in command }
    }

    /// A work station or room of the committee; INVALID_ARGUMENT naming `field`.
    func requireStation(_ id: Int64, field: String, committee: Int64) async throws -> Xieshang_Directory_V1_WorkStation {
        try Check.id(id, field, required: true)
        guard let s = try await directory.station(id, committee: committee) else {
            throw DomainError.invalid(field: field, message: "no work station \(id) in this committee")
        }
        return s
    }
}
