import XieshangAPI
import XieshangKit

/// The quotas of DOMAIN.md §3 as a pure computation over what happened in a year:
/// each sector at least one activity a year (赫章); each town liaison committee's 五个一 (印江):
/// opinions fed back monthly, research quarterly, a courtyard consultation half-yearly, a key
/// proposal yearly; the committee at least four thematic consultations a year.
public enum Quotas {
    /// Something that counts towards a quota: who did it, what, and when.
    public struct Done: Sendable, Equatable {
        public enum What: Sendable, Equatable {
            case sectorActivity, thematic
            case liaison(Xieshang_Consultation_V1_LiaisonActivityKind)
        }

        public var subject: Xieshang_Consultation_V1_QuotaSubject
        public var subjectID: Int64
        public var what: What
        public var on: CivilDate

        public init(_ subject: Xieshang_Consultation_V1_QuotaSubject, _ subjectID: Int64, _ what: What, on: CivilDate) {
            self.subject = subject
            self.subjectID = subjectID
            self.what = what
            self.on = on
        }
    }

    /// How often a quota repeats within the year.
    enum Every: Int { case month = 12, quarter = 4, half = 2, year = 1 }

    struct Rule {
        var subject: Xieshang_Consultation_V1_QuotaSubject
        var what: Done.What
        var label: String
        var every: Every
        var required: Int
    }

    static let rules: [Rule] = [
        Rule(subject: .sector, what: .sectorActivity, label: "界别活动 每年≥1", every: .year, required: 1),
        Rule(subject: .town, what: .liaison(.opinionFeedback), label: "反馈社情民意 每月≥1", every: .month, required: 1),
        Rule(subject: .town, what: .liaison(.research), label: "开展调研 每季度≥1", every: .quarter, required: 1),
        Rule(subject: .town, what: .liaison(.courtyard), label: "院坝协商 每半年≥1", every: .half, required: 1),
        Rule(subject: .town, what: .liaison(.keyProposal), label: "征集重点提案 每年≥1", every: .year, required: 1),
        Rule(subject: .committee, what: .thematic, label: "专题协商 每年≥4", every: .year, required: 4),
    ]

    /// Rows for every subject, quota and period of `year` that has begun by `asOf`.
    public static func report(year: Int, asOf: CivilDate, subjects: [(Xieshang_Consultation_V1_QuotaSubject, Int64, String)],
                              done: [Done], behindOnly: Bool) -> Xieshang_Consultation_V1_QuotaReport {
        var counts: [String: Int] = [:]
        func key(_ s: Xieshang_Consultation_V1_QuotaSubject, _ id: Int64, _ what: Done.What, _ period: Int, _ every: Every) -> String {
            "\(s.rawValue)/\(id)/\(what)/\(every.rawValue)/\(period)"
        }
        for d in done where d.on.year == year {
            for every in [Every.month, .quarter, .half, .year] {
                counts[key(d.subject, d.subjectID, d.what, period(of: d.on, every), every), default: 0] += 1
            }
        }
        var r = Xieshang_Consultation_V1_QuotaReport()
        r.year = Int32(year)
        r.asOf = asOf.description
        for (subject, id, name) in subjects {
            for rule in rules where rule.subject == subject {
                for p in 0..<rule.every.rawValue {
                    let (start, end) = bounds(year: year, index: p, rule.every)
                    guard start <= asOf else { break }
                    let done = counts[key(subject, id, rule.what, p, rule.every), default: 0]
                    let expected: Int
                    if asOf >= end {
                        expected = rule.required
                    } else {
                        let elapsed = asOf.dayNumber - start.dayNumber + 1, length = end.dayNumber - start.dayNumber + 1
                        expected = rule.required * elapsed / length
                    }
                    var row = Xieshang_Consultation_V1_QuotaRow()
                    row.subject = subject
                    row.subjectId = id
                    row.subjectName = name
                    row.quota = rule.label
                    row.period = label(year: year, index: p, rule.every)
                    row.required = Int32(rule.required)
                    row.done = Int32(done)
                    row.expected = Int32(expected)
                    row.behind = done < expected
                    if row.behind { r.behind += 1 }
                    if !behindOnly || row.behind { r.rows.append(row) }
                }
            }
        }
        return r
    }

    static func period(of d: CivilDate, _ every: Every) -> Int {
        let month = d.parts.month - 1
        return month / (12 / every.rawValue)
    }

    static func bounds(year: Int, index: Int, _ every: Every) -> (CivilDate, CivilDate) {
        let months = 12 / every.rawValue
        let start = CivilDate(year: year, month: index * months + 1, day: 1)!
        return (start, start.adding(months: months).adding(days: -1))
    }

    static func label(year: Int, index: Int, _ every: Every) -> String {
        switch every {
        case .month: "\(year)-" + (index < 9 ? "0" : "") + "\(index + 1)"
        case .quarter: "\(year)-Q\(index + 1)"
        case .half: "\(year)-H\(index + 1)"
        case .year: "\(year)"
        }
    }
}
