import XieshangAPI
import XieshangKit

/// A service whose `Watch` feed analytics consumes.
public enum Source: String, CaseIterable, Sendable {
    case directory, intake, proposals, consultation

    /// The entity kinds analytics reads from it (the rest are filtered out at the source).
    public var entityKinds: [String] {
        switch self {
        case .directory: ["committee", "area", "work_station", "member"]
        case .intake: ["item", "relay", "report"]
        case .proposals: ["proposal"]
        case .consultation: ["consultation", "consultation_topic", "meeting", "opinion_post", "roster"]
        }
    }
}

/// What a fact row describes. Each comes from one source.
public enum FactKind: String, CaseIterable, Sendable {
    /// An intake item (day: received).
    case item
    /// A proposal (day: submitted).
    case proposal
    /// A consultation (day: started).
    case consultation
    /// A meeting (day: its date).
    case meeting
    /// A member's invitation to a held meeting (`sub`: its number; day: the meeting's date).
    case invitation
    /// An opinion report (day: adopted, else written).
    case report
    /// A downward relay (day: its date).
    case relay
    /// Not a fact: the monthly roll-up rows of duty entries use this kind.
    case duty
}

/// The additive figures of one fact; roll-ups hold their sums. Which field means what depends on
/// the kind (see ``Fact``).
public struct Measures: Equatable, Sendable {
    /// How many facts (1 for a fact).
    public var n: Int64 = 0
    /// The denominator of "handled": items routed, proposals assigned.
    public var base: Int64 = 0
    /// Items answered or later; proposals replied or evaluated; meetings held.
    public var done: Int64 = 0
    /// Replies (results) measured against a due date, and those on time.
    public var timed: Int64 = 0
    public var onTime: Int64 = 0
    /// Rated, and rated 满意 or 基本满意.
    public var rated: Int64 = 0
    public var satisfied: Int64 = 0
    /// Proposals: decided. Reports: adopted. Relays: audience.
    public var a: Int64 = 0
    /// Proposals: registered. Reports: instructions.
    public var b: Int64 = 0
    /// Proposals: key (重点提案).
    public var c: Int64 = 0

    public init() {}

    /// The fields in column order (`n` first).
    public var columns: [Int64] { [n, base, done, timed, onTime, rated, satisfied, a, b, c] }

    /// Measures from columns in `columns` order.
    public init(columns v: [Int64]) {
        (n, base, done, timed, onTime, rated, satisfied, a, b, c) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9])
    }

    public static let columnNames = ["n", "base", "done", "timed", "on_time", "rated", "satisfied", "a", "b", "c"]

    public static func + (l: Measures, r: Measures) -> Measures { Measures(columns: zip(l.columns, r.columns).map { $0 + $1 }) }
    public static func - (l: Measures, r: Measures) -> Measures { Measures(columns: zip(l.columns, r.columns).map { $0 - $1 }) }
    public static func += (l: inout Measures, r: Measures) { l = l + r }
    public var isZero: Bool { columns.allSatisfy { $0 == 0 } }
}

/// One entity's current figures, as the dashboards count it.
public struct Fact: Equatable, Sendable {
    public var kind: FactKind
    public var id: Int64
    public var sub: Int64 = 0
    public var committee: Int64
    /// YYYYMMDD of the day it counts on.
    public var day: Int32
    /// The entity's state (enum number) or, for consultations, its step.
    public var state: Int32 = 0
    /// Category (items, proposals) or form name (consultations).
    public var category: String = ""
    /// The member it is credited to: who brought the item, the lead proposer, the host, the invitee.
    public var member: Int64 = 0
    public var town: Int64 = 0
    public var sector: Int64 = 0
    public var measures = Measures()

    public init(kind: FactKind, id: Int64, sub: Int64 = 0, committee: Int64, day: Int32) {
        self.kind = kind
        self.id = id
        self.sub = sub
        self.committee = committee
        self.day = day
        measures.n = 1
    }

    /// Its identity.
    public var key: FactKey { FactKey(kind: kind, id: id, sub: sub) }
}

public struct FactKey: Hashable, Sendable {
    public var kind: FactKind
    public var id: Int64
    public var sub: Int64
    public init(kind: FactKind, id: Int64, sub: Int64 = 0) {
        self.kind = kind
        self.id = id
        self.sub = sub
    }
}

/// One entry of a member's duty record.
public struct Duty: Equatable, Sendable {
    public var member: Int64
    public var committee: Int64
    public var kind: DutyKind
    /// YYYYMMDD.
    public var day: Int32
    public var refKind: String
    public var refID: String
    public var note: String

    public init(member: Int64, committee: Int64, kind: DutyKind, day: Int32, refKind: String, refID: String, note: String = "") {
        self.member = member
        self.committee = committee
        self.kind = kind
        self.day = day
        self.refKind = refKind
        self.refID = refID
        self.note = note
    }
}

/// Directory rows analytics keeps: committees (for roll-ups), towns (coverage), stations and
/// members (scopes).
public enum DirectoryRow: Equatable, Sendable {
    case committee(id: Int64, parent: Int64, name: String)
    case town(id: Int64, committee: Int64, name: String, archived: Bool)
    case station(id: Int64, committee: Int64, town: Int64, name: String)
    case member(Xieshang_Directory_V1_Member)
}

/// Days as YYYYMMDD integers.
public enum Day {
    /// `date` (YYYY-MM-DD…) as YYYYMMDD; nil when it is not a date.
    public static func from(_ text: String) -> Int32? {
        guard text.utf8.count >= 10, let d = CivilDate(String(text.prefix(10))) else { return nil }
        return from(d)
    }

    public static func from(_ d: CivilDate) -> Int32 {
        let p = d.parts
        return Int32(p.year * 10000 + p.month * 100 + p.day)
    }

    /// The China date of `ms`.
    public static func from(unixMilliseconds ms: Int64) -> Int32 { from(CivilDate.china(unixMilliseconds: ms)) }

    public static func date(_ day: Int32) -> CivilDate? {
        CivilDate(year: Int(day / 10000), month: Int(day / 100 % 100), day: Int(day % 100))
    }

    public static func text(_ day: Int32) -> String { date(day)?.description ?? "" }
}
