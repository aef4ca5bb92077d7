import XieshangKit

/// The daily reminders: an open deadline due within `soonDays` working days, and one overdue,
/// each reminded once per due date and stage (the key says which), so running twice a day or
/// after a restart reminds no one twice, and a new due date (rerouted, extended) reminds again.
public enum Reminders {
    /// Reminders for `deadlines`, given how many working days each is overdue today (negative:
    /// working days left), in the same order.
    public static func drafts(_ deadlines: [Deadline], overdueBy: [Int32], soonDays: Int32) -> [Draft] {
        var out: [Draft] = []
        for (d, late) in zip(deadlines, overdueBy) {
            let stage: String, title: String, body: String
            if late > 0 {
                guard d.remindsOverdue else { continue }
                stage = "overdue"
                title = "已逾期：\(d.subject)"
                body = "\(d.subject)已于\(d.due)到期，逾期\(late)个工作日。"
            } else if -late <= soonDays {
                stage = "due_soon"
                title = "即将到期：\(d.subject)"
                body = late == 0 ? "\(d.subject)今天（\(d.due)）到期。" : "\(d.subject)将于\(d.due)到期，还有\(-late)个工作日。"
            } else {
                continue
            }
            for a in d.to {
                var draft = Draft(committee: d.committee, kind: "reminder.\(stage)", to: a, title: title, body: body,
                                  entityKind: d.entityKind, entityID: d.entityID)
                draft.key = "reminder:\(d.key):\(d.due):\(stage):\(a)"
                out.append(draft)
            }
        }
        return out
    }
}
