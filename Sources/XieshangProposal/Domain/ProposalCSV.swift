import XieshangAPI
import XieshangKit

/// The proposal list staff hand to leaders, one row per proposal (Chinese headers).
public enum ProposalCSV {
    public static let header = ["案号", "届次", "标题", "提案人", "提案方式", "界别", "类别", "会议", "状态", "主办单位", "协办单位",
                                "交办日期", "答复期限", "答复等级", "满意度", "重点提案", "督办领导", "提交日期"]

    public static func row(_ p: Proposal, units: [Int64: String], sectors: [Int64: String], terms: [Int64: String]) -> [String] {
        [p.numberLabel, terms[p.termId] ?? "", p.title, proposers(p), kind(p.proposerKind), sectors[p.sectorId] ?? "", p.category,
         session(p), p.state.chinese, units[p.leadUnitId] ?? "", p.coUnitIds.compactMap { units[$0] }.joined(separator: "、"),
         p.assignedOn, p.dueDate, (p.reply ?? p.previousReplies.last)?.grade.label ?? "", satisfaction(p.satisfaction),
         p.key ? "是" : "", p.overseeingLeaderName, p.submittedOn]
    }

    /// The lead proposer and confirmed co-signers (王芳、李强).
    static func proposers(_ p: Proposal) -> String {
        ([p.proposerName] + p.coSigners.filter { $0.status == .confirmed }.map(\.name)).filter { !$0.isEmpty }.joined(separator: "、")
    }

    static func kind(_ k: Xieshang_Proposal_V1_ProposerKind) -> String {
        switch k {
        case .member: "个人"
        case .joint: "联名"
        case .sectorGroup: "界别"
        case .partyGroup: "党派"
        case .specialCommittee: "专委会"
        default: ""
        }
    }

    static func session(_ p: Proposal) -> String {
        let when = p.session == .plenary ? "大会期间" : p.session == .interim ? "闭会期间" : ""
        return [p.sessionName, when].filter { !$0.isEmpty }.joined(separator: " ")
    }

    static func satisfaction(_ s: Xieshang_Proposal_V1_Satisfaction) -> String {
        switch s {
        case .satisfied: "满意"
        case .basicallySatisfied: "基本满意"
        case .dissatisfied: "不满意"
        default: ""
        }
    }
}
