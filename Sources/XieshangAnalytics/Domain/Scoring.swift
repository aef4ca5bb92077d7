import XieshangAPI

public typealias DutyKind = Xieshang_Analytics_V1_DutyKind
public typealias PointRules = Xieshang_Analytics_V1_PointRules
public typealias MemberScore = Xieshang_Analytics_V1_MemberScore

/// Points, grades and five-ones progress from a member's duty counts for a year. Pure: the
/// committee's rules and the counts in, the score out.
public enum Scoring {
    /// Kinds staff record by hand (`RecordDuty`); the others come from the service feeds.
    public static let manualKinds: Set<DutyKind> = [.speech, .inspection, .practicalDeed, .training, .newFriends]

    /// The point table until a committee edits its own: 凯里's duties, with caps so no single duty
    /// carries a member, and a deduction for each unexcused absence.
    public static func defaultRules(committee: Int64) -> PointRules {
        let table: [(DutyKind, Int32, Int32)] = [
            (.proposalLead, 10, 30), (.proposalCosigned, 3, 9), (.proposalRegistered, 5, 15),
            (.opinionBrought, 5, 30), (.opinionAdopted, 10, 30), (.instructionWon, 15, 45),
            (.consultationAttended, 5, 30), (.consultationHosted, 8, 24), (.absenceUnexcused, -10, 0),
            (.research, 5, 20), (.stationDuty, 2, 24), (.relay, 3, 15), (.topicSuggested, 2, 10),
            (.onlinePost, 1, 5), (.speech, 8, 16), (.inspection, 5, 20), (.practicalDeed, 10, 30),
            (.training, 2, 10), (.newFriends, 2, 6),
        ]
        var r = PointRules()
        r.committeeId = committee
        r.passMark = 60
        r.maxUnexcusedAbsences = 2
        r.rules = table.map { kind, points, cap in
            var rule = Xieshang_Analytics_V1_PointRule()
            rule.kind = kind
            rule.points = points
            rule.cap = cap
            return rule
        }
        return r
    }

    /// Points one entry of `kind` earns (before caps).
    public static func points(_ kind: DutyKind, rules: PointRules) -> Int32 {
        rules.rules.first { $0.kind == kind }?.points ?? 0
    }

    /// Points `count` entries of `kind` bring under `rules`, capped (a deduction's cap bounds how
    /// much it takes away).
    public static func points(_ kind: DutyKind, count: Int64, rules: PointRules) -> Int64 {
        guard let rule = rules.rules.first(where: { $0.kind == kind }) else { return 0 }
        let raw = Int64(rule.points) * count
        guard rule.cap > 0 else { return raw }
        return raw >= 0 ? min(raw, Int64(rule.cap)) : max(raw, -Int64(rule.cap))
    }

    /// The five ones (随县 五个一) and the duty kinds that fulfil each.
    public static let fiveOnes: [(name: String, kinds: Set<DutyKind>)] = [
        ("一件提案", [.proposalLead, .proposalCosigned]),
        ("一条社情民意", [.opinionBrought]),
        ("一条建议", [.topicSuggested, .onlinePost]),
        ("结交新朋友", [.newFriends]),
        ("一件实事", [.practicalDeed]),
    ]

    /// A member's year: points, grade (称职 needs the pass mark and no more unexcused absences
    /// than allowed) and five-ones progress.
    public static func score(member: Int64, name: String, committee: Int64, counts: [DutyKind: Int64], rules: PointRules) -> MemberScore {
        var s = MemberScore()
        s.memberId = member
        s.name = name
        s.committeeId = committee
        let total = counts.reduce(Int64(0)) { $0 + points($1.key, count: $1.value, rules: rules) }
        s.points = Int32(clamping: total)
        let absences = counts[.absenceUnexcused] ?? 0
        s.grade = total >= Int64(rules.passMark) && absences <= Int64(rules.maxUnexcusedAbsences) ? .competent : .notCompetent
        for one in fiveOnes {
            if one.kinds.contains(where: { (counts[$0] ?? 0) > 0 }) {
                s.fiveOnesDone += 1
            } else {
                s.fiveOnesMissing.append(one.name)
            }
        }
        return s
    }

    /// Orders scores best first (points, then member id for a stable order).
    public static func ranked(_ scores: [MemberScore]) -> [MemberScore] {
        scores.sorted { $0.points != $1.points ? $0.points > $1.points : $0.memberId < $1.memberId }
    }
}
