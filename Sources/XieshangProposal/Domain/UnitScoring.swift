import XieshangAPI
import XieshangKit

/// The 100-point handling score of lead units (百分制考核) from the committee's criteria. Pure.
///
/// Each proposal a unit leads is judged on what can be judged so far:
/// - timeliness: replied by the due date gets full marks, late `late_reply_percent`; not replied
///   and past due on `asOf` gets none; not replied and not yet due is not judged;
/// - contact: a replied proposal with a contact record of the unit before the reply gets full marks;
/// - quality: the reply's grade (A full, B and C their percentages);
/// - satisfaction: the latest evaluation (满意 full, 基本满意 its percentage, 不满意 none).
/// A criterion's points are its weight times the average over the judged proposals. Criteria with
/// nothing judged yet are left out and the score is scaled to 100 over the rest.
public enum UnitScoring {
    public static func score(_ proposals: [Proposal], criteria c: Xieshang_Proposal_V1_ScoringCriteria, asOf: CivilDate,
                             names: [Int64: String] = [:]) -> [Xieshang_Proposal_V1_UnitScore] {
        let byUnit = Dictionary(grouping: proposals.filter { $0.leadUnitId != 0 }, by: \.leadUnitId)
        var out: [Xieshang_Proposal_V1_UnitScore] = []
        for (unit, list) in byUnit {
            var judged: [String: [Double]] = [:]
            var u = Xieshang_Proposal_V1_UnitScore()
            u.unitId = unit
            u.unitName = names[unit] ?? ""
            u.proposals = Int32(list.count)
            for p in list {
                // The first reply counts for timeliness and contact; the latest for quality.
                let first = p.previousReplies.first ?? p.reply
                if let r = first {
                    u.replied += 1
                    if r.onTime { u.onTime += 1 }
                    judged["timeliness", default: []].append(r.onTime ? 1 : Double(c.lateReplyPercent) / 100)
                    judged["contact", default: []].append(r.contacted ? 1 : 0)
                } else if ProposalMachine.isOverdue(p, today: asOf) {
                    u.overdue += 1
                    judged["timeliness", default: []].append(0)
                }
                if let r = p.reply ?? p.previousReplies.last {
                    switch r.grade {
                    case .a: judged["quality", default: []].append(1)
                    case .b: judged["quality", default: []].append(Double(c.gradeBPercent) / 100)
                    case .c: judged["quality", default: []].append(Double(c.gradeCPercent) / 100)
                    default: break
                    }
                }
                switch p.evaluations.last?.satisfaction {
                case .satisfied: judged["satisfaction", default: []].append(1)
                case .basicallySatisfied: judged["satisfaction", default: []].append(Double(c.basicallySatisfiedPercent) / 100)
                case .dissatisfied: judged["satisfaction", default: []].append(0)
                default: break
                }
            }
            var earned = 0.0, possible = 0
            for (name, weight) in [("timeliness", c.timelinessPoints), ("contact", c.contactPoints),
                                   ("quality", c.qualityPoints), ("satisfaction", c.satisfactionPoints)] {
                var s = Xieshang_Proposal_V1_CriterionScore()
                s.criterion = name
                s.maxPoints = weight
                let values = judged[name] ?? []
                s.judged = Int32(values.count)
                if !values.isEmpty {
                    s.points = Double(weight) * values.reduce(0, +) / Double(values.count)
                    earned += s.points
                    possible += Int(weight)
                }
                u.criteria.append(s)
            }
            u.score = possible == 0 ? 0 : (earned * 100 / Double(possible) * 10).rounded() / 10
            out.append(u)
        }
        return out.sorted { ($0.score, -$0.unitId) > ($1.score, -$1.unitId) }
    }
}
