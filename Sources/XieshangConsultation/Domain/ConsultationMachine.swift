import XieshangAPI
import XieshangKit

public typealias Consultation = Xieshang_Consultation_V1_Consultation
public typealias ConsultationStep = Xieshang_Consultation_V1_Step

/// What can be done to a consultation along the eight steps. Inputs that need the directory or
/// the database (units, due dates on the working-day calendar, the meeting held) are resolved by
/// the service before the command is applied.
public enum ConsultationCommand: Sendable, Equatable {
    /// Step 2: the work plan (may be revised until research is done).
    case makePlan(String)
    /// A research activity; `reportDue` is the report's new due date.
    case recordResearch(Xieshang_Consultation_V1_ResearchActivity, reportDue: String)
    /// Step 3 done.
    case submitResearchReport(String)
    /// Step 4: meeting `meetingID` was held on `on`; results are due `resultsDue`.
    case holdMeeting(meetingID: Int64, on: String, resultsDue: String)
    /// Step 5: the suggestion list.
    case submitResults([String])
    /// Step 6: the responsibility list, due dates resolved.
    case assignResponsibilities([Xieshang_Consultation_V1_Responsibility])
    /// A responsible unit's feedback on one suggestion.
    case recordFeedback(number: Int32, text: String)
    /// Step 7.
    case feedBack(note: String)
    /// Step 8.
    case archive
    case cancel(reason: String)
    case chase(Xieshang_Consultation_V1_Chase)
    case setPage(open: Bool)
    case link(kind: Xieshang_Consultation_V1_LinkKind, targetID: Int64)

    /// The action's name in history and events (`consultation.<name>`).
    public var name: String {
        switch self {
        case .makePlan: "planned"
        case .recordResearch: "research_recorded"
        case .submitResearchReport: "researched"
        case .holdMeeting: "meeting_held"
        case .submitResults: "results_submitted"
        case .assignResponsibilities: "responsibilities_assigned"
        case .recordFeedback: "feedback_recorded"
        case .feedBack: "fed_back"
        case .archive: "archived"
        case .cancel: "cancelled"
        case .chase: "chased"
        case .setPage(let open): open ? "page_opened" : "page_closed"
        case .link: "linked"
        }
    }

    /// The action as a phrase for refusals ("it cannot <phrase> now").
    var phrase: String {
        switch self {
        case .makePlan: "have its work plan made"
        case .recordResearch: "record research"
        case .submitResearchReport: "take a research report"
        case .holdMeeting: "hold its meeting"
        case .submitResults: "take its results"
        case .assignResponsibilities: "have responsibilities assigned"
        case .recordFeedback: "take feedback"
        case .feedBack: "feed back its results"
        case .archive: "be archived"
        case .cancel: "be cancelled"
        case .chase: "be chased"
        case .setPage: "open or close its page"
        case .link: "be linked"
        }
    }
}

/// The eight steps (DOMAIN.md §3) as a pure function: the steps a command may start from, who
/// may give it, and the consultation it leaves. No I/O.
public enum ConsultationMachine {
    /// Steps after which nothing more happens.
    static let finished: Set<ConsultationStep> = [.archived, .cancelled]
    /// Steps before the meeting: meetings can still be scheduled, the consultation cancelled.
    static let beforeMeeting: Set<ConsultationStep> = [.topicChosen, .planned, .researched]

    public static func sources(of command: ConsultationCommand) -> Set<ConsultationStep> {
        switch command {
        case .makePlan: [.topicChosen, .planned]
        case .recordResearch, .submitResearchReport: [.planned]
        case .holdMeeting: [.researched]
        case .submitResults: [.meetingHeld]
        case .assignResponsibilities: [.resultsSubmitted, .supervising]
        case .recordFeedback, .feedBack: [.supervising]
        case .archive: [.fedBack]
        case .cancel: beforeMeeting
        case .chase: [.planned, .meetingHeld, .supervising]
        case .setPage: Set(ConsultationStep.allKnownCases).subtracting(finished).subtracting([.unspecified])
        case .link: Set(ConsultationStep.allKnownCases).subtracting([.unspecified])
        }
    }

    /// Whether `who` answers for suggestion `number` of `c`.
    static func responsibleUnit(_ c: Consultation, number: Int32, _ who: Participant) -> Bool {
        who.has(.handlingUnit) && who.unitID != 0 && c.suggestions.contains { $0.number == number && $0.unitId == who.unitID }
    }

    /// Throws PERMISSION_DENIED unless `who` may give `command` for `c`.
    public static func authorize(_ command: ConsultationCommand, on c: Consultation, by who: Participant) throws {
        let staff = who.has(.committeeStaff)
        let allowed: Bool
        switch command {
        case .recordFeedback(let number, _): allowed = staff || responsibleUnit(c, number: number, who)
        default: allowed = staff
        }
        if !allowed { throw DomainError.forbidden("consultation \(c.id) cannot \(command.phrase) by this account") }
    }

    /// PERMISSION_DENIED or FAILED_PRECONDITION naming the step (and, for meetings, the research gate).
    public static func check(_ command: ConsultationCommand, on c: Consultation, by who: Participant) throws {
        try authorize(command, on: c, by: who)
        guard sources(of: command).contains(c.step) else {
            if case .holdMeeting = command, [.topicChosen, .planned].contains(c.step) {
                throw DomainError.notAllowed("consultation \(c.id) is at step \(c.step.label); no consultation without research "
                                             + "(不调研不协商): its research report must be in before a meeting is held")
            }
            throw DomainError.notAllowed("consultation \(c.id) is at step \(c.step.label); it cannot \(command.phrase) now")
        }
    }

    /// The consultation after `command` at `ms`, and the event type to record.
    public static func apply(_ command: ConsultationCommand, to c: Consultation, by who: Participant, at ms: Int64) throws -> (Consultation, String) {
        try check(command, on: c, by: who)
        let today = CivilDate.china(unixMilliseconds: ms)
        var next = c
        var note = ""
        switch command {
        case .makePlan(let plan):
            guard !plan.isEmpty else { throw DomainError.invalid(field: "work_plan", message: "required") }
            next.workPlan = plan
            next.step = .planned
        case .recordResearch(let activity, let due):
            guard !activity.summary.isEmpty else { throw DomainError.invalid(field: "activity.summary", message: "required") }
            var a = activity
            if a.on.isEmpty { a.on = today.description }
            a.recordedBy = who.name
            next.research.append(a)
            // The report is due a week after the last activity.
            next.researchReportDue = max(c.researchReportDue, due)
            note = [a.on, a.place].filter { !$0.isEmpty }.joined(separator: " ")
        case .submitResearchReport(let text):
            guard !c.research.isEmpty else {
                throw DomainError.notAllowed("consultation \(c.id) has no research recorded; record the research before its report")
            }
            guard !text.isEmpty else { throw DomainError.invalid(field: "text", message: "required") }
            next.researchReport = text
            next.researchReportOn = today.description
            next.step = .researched
        case .holdMeeting(let meeting, let on, let due):
            next.heldMeetingId = meeting
            next.heldOn = on
            next.resultsDue = due
            next.step = .meetingHeld
            note = "meeting \(meeting)"
        case .submitResults(let list):
            guard !list.isEmpty else { throw DomainError.invalid(field: "suggestions", message: "at least one suggestion") }
            next.suggestions = list.enumerated().map { i, text in
                var s = Xieshang_Consultation_V1_Suggestion()
                s.number = Int32(i + 1)
                s.text = text
                return s
            }
            next.resultsOn = today.description
            next.resultsOnTime = CivilDate(c.resultsDue).map { today <= $0 } ?? true
            next.step = .resultsSubmitted
            note = "\(list.count) suggestions"
        case .assignResponsibilities(let list):
            for (i, r) in list.enumerated() {
                guard let k = next.suggestions.firstIndex(where: { $0.number == r.suggestionNumber }) else {
                    throw DomainError.invalid(field: "responsibilities[\(i)].suggestion_number", message: "no suggestion \(r.suggestionNumber)")
                }
                guard next.suggestions[k].feedback.isEmpty else {
                    throw DomainError.notAllowed("consultation \(c.id): suggestion \(r.suggestionNumber) already has its feedback")
                }
                next.suggestions[k].unitId = r.unitId
                next.suggestions[k].dueDate = r.dueDate
            }
            if let missing = next.suggestions.first(where: { $0.unitId == 0 }) {
                throw DomainError.invalid(field: "responsibilities", message: "suggestion \(missing.number) has no responsible unit")
            }
            next.step = .supervising
            note = "\(list.count) responsibilities"
        case .recordFeedback(let number, let text):
            guard !text.isEmpty else { throw DomainError.invalid(field: "text", message: "required") }
            guard let k = next.suggestions.firstIndex(where: { $0.number == number }) else {
                throw DomainError.invalid(field: "suggestion_number", message: "no suggestion \(number)")
            }
            next.suggestions[k].feedback = text
            next.suggestions[k].feedbackOn = today.description
            next.suggestions[k].feedbackOnTime = CivilDate(next.suggestions[k].dueDate).map { today <= $0 } ?? true
            note = "suggestion \(number)"
        case .feedBack(let n):
            let waiting = c.suggestions.filter { $0.feedback.isEmpty }.map { "\($0.number)" }
            guard waiting.isEmpty else {
                throw DomainError.notAllowed("consultation \(c.id): suggestions \(waiting.joined(separator: ", ")) have no feedback yet")
            }
            next.fedBackOn = today.description
            next.feedbackNote = n
            next.step = .fedBack
            note = n
        case .archive:
            next.archivedOn = today.description
            next.pageOpen = false
            next.step = .archived
        case .cancel(let reason):
            guard !reason.isEmpty else { throw DomainError.invalid(field: "reason", message: "required") }
            next.cancelReason = reason
            next.pageOpen = false
            next.step = .cancelled
            note = reason
        case .chase(let chase):
            guard chase.method != .unspecified else { throw DomainError.invalid(field: "chase.method", message: "required") }
            var record = chase
            record.atUnixMs = ms
            record.by = who.name
            if record.about == .unspecified {
                record.about = c.step == .planned ? .researchReport : c.step == .meetingHeld ? .results : .responsibility
            }
            next.chases.append(record)
            note = [chase.whom, chase.note].filter { !$0.isEmpty }.joined(separator: ": ")
        case .setPage(let open):
            next.pageOpen = open
        case .link(let kind, let target):
            try History.link(kind, target, at: ms, in: &next.links)
        }
        next.history.append(History.record(command.name, by: who.name, at: ms, note: note))
        return (next, "consultation.\(command.name)")
    }

    /// A consultation as started at `ms` by `name` from its chosen topic: step 1 done.
    public static func started(_ c: Consultation, by name: String, at ms: Int64) -> Consultation {
        var r = c
        r.step = .topicChosen
        r.history = [History.record("created", by: name, at: ms)]
        return r
    }

    /// What is due and not done: the research report while planned, results after the meeting,
    /// responsibilities without feedback while supervising.
    public static func dueItems(_ c: Consultation) -> [Xieshang_Consultation_V1_ChaseEntry] {
        func entry(_ kind: Xieshang_Consultation_V1_DueKind, _ due: String, number: Int32 = 0, unit: Int64 = 0) -> Xieshang_Consultation_V1_ChaseEntry {
            var e = Xieshang_Consultation_V1_ChaseEntry()
            e.consultationId = c.id
            e.title = c.title
            e.kind = kind
            e.dueDate = due
            e.suggestionNumber = number
            e.unitId = unit
            return e
        }
        switch c.step {
        case .planned where !c.researchReportDue.isEmpty: return [entry(.researchReport, c.researchReportDue)]
        case .meetingHeld where !c.resultsDue.isEmpty: return [entry(.results, c.resultsDue)]
        case .supervising:
            return c.suggestions.filter { $0.feedback.isEmpty && !$0.dueDate.isEmpty }.map {
                entry(.responsibility, $0.dueDate, number: $0.number, unit: $0.unitId)
            }
        default: return []
        }
    }
}

/// History and links kept inside records.
enum History {
    /// Adds a link to `target` (once).
    static func link(_ kind: Xieshang_Consultation_V1_LinkKind, _ target: Int64, at ms: Int64, in links: inout [Xieshang_Consultation_V1_Link]) throws {
        guard kind != .unspecified else { throw DomainError.invalid(field: "kind", message: "required") }
        guard target > 0 else { throw DomainError.invalid(field: "target_id", message: "required") }
        guard !links.contains(where: { $0.kind == kind && $0.targetId == target }) else { return }
        var l = Xieshang_Consultation_V1_Link()
        l.kind = kind
        l.targetId = target
        l.atUnixMs = ms
        links.append(l)
    }

    static func record(_ action: String, by name: String, at ms: Int64, note: String = "") -> Xieshang_Consultation_V1_StepRecord {
        var r = Xieshang_Consultation_V1_StepRecord()
        r.action = action
        r.actor = name
        r.atUnixMs = ms
        r.note = note
        return r
    }
}

extension Xieshang_Consultation_V1_Step {
    /// The step's name in messages.
    public var label: String {
        switch self {
        case .unspecified: "unspecified"
        case .topicChosen: "topic chosen"
        case .planned: "plan made"
        case .researched: "research done"
        case .meetingHeld: "meeting held"
        case .resultsSubmitted: "results submitted"
        case .supervising: "supervising"
        case .fedBack: "fed back"
        case .archived: "archived"
        case .cancelled: "cancelled"
        default: "step \(rawValue)"
        }
    }
}
