import NIOConcurrencyHelpers
import XieshangAPI
import XieshangRPC

/// Builds dashboard figures from the store's grouped rows. Pure.
public enum Dashboards {
    /// An enum case as a snake_case key, e.g. `fedBack` → `fed_back` (spelled once per value:
    /// a case's description goes through reflection).
    public static func name<E: ProtoEnum>(_ value: E) -> String {
        let type = ObjectIdentifier(E.self)
        if let known = spelled.withLockedValue({ $0[type]?[value.rawValue] }) { return known }
        let name = spell(value)
        spelled.withLockedValue { $0[type, default: [:]][value.rawValue] = name }
        return name
    }

    private static let spelled = NIOLockedValueBox([ObjectIdentifier: [Int32: String]]())

    private static func spell<E: ProtoEnum>(_ value: E) -> String {
        var out = ""
        for ch in "\(value)" {
            if ch.isUppercase {
                out += "_" + ch.lowercased()
            } else {
                out.append(ch)
            }
        }
        return out
    }

    static func count(_ key: String, _ n: Int64) -> Xieshang_Analytics_V1_Count {
        var c = Xieshang_Analytics_V1_Count()
        c.key = key
        c.count = n
        return c
    }

    public static func rate(_ numerator: Int64, _ denominator: Int64) -> Xieshang_Analytics_V1_Rate {
        var r = Xieshang_Analytics_V1_Rate()
        r.numerator = numerator
        r.denominator = denominator
        r.perMille = denominator > 0 ? Int32(numerator * 1000 / denominator) : 0
        return r
    }

    /// Counts by key, largest first (then by key), without zeros.
    static func counts(_ pairs: [(String, Int64)]) -> [Xieshang_Analytics_V1_Count] {
        var sums: [String: Int64] = [:]
        for (k, n) in pairs { sums[k, default: 0] += n }
        return sums.filter { $0.value != 0 }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { count($0.key, $0.value) }
    }

    static func total(_ rows: [FigureRow]) -> Measures { rows.reduce(Measures()) { $0 + $1.measures } }

    static func grouped(_ rows: [FigureRow]) -> (FactKind) -> [FigureRow] {
        let byKind = Dictionary(grouping: rows, by: \.kind)
        return { byKind[$0.rawValue] ?? [] }
    }

    public static func figures(_ rows: [FigureRow], members: MemberTally, towns: [(id: Int64, name: String)], period: Period) -> Xieshang_Analytics_V1_Figures {
        let of = grouped(rows)
        var f = Xieshang_Analytics_V1_Figures()
        f.from = Day.text(period.from)
        f.to = Day.text(period.to)
        f.intake = intake(of)
        f.proposals = proposals(of)
        f.consultations = consultations(of)
        var m = Xieshang_Analytics_V1_MemberFigures()
        m.members = Int64(members.total)
        let perTown = members.perTown
        m.towns = Int64(towns.count)
        m.townsCovered = Int64(towns.filter { perTown[$0.id, default: 0] > 0 }.count)
        m.membersPerTown = towns.map { count($0.name, perTown[$0.id, default: 0]) }
        m.duties = counts(of(.duty).map { (name(DutyKind(rawValue: $0.state)), $0.measures.n) })
        f.members = m
        return f
    }

    static func intake(_ of: (FactKind) -> [FigureRow]) -> Xieshang_Analytics_V1_IntakeFigures {
        var intake = Xieshang_Analytics_V1_IntakeFigures()
        let items = of(.item), it = total(items)
        intake.received = it.n
        intake.byState = counts(items.map { (name(Xieshang_Intake_V1_ItemState(rawValue: $0.state)), $0.measures.n) })
        intake.byCategory = counts(items.map { ($0.category, $0.measures.n) })
        intake.handled = rate(it.done, it.base)
        intake.onTime = rate(it.onTime, it.timed)
        intake.satisfied = rate(it.satisfied, it.rated)
        let reports = total(of(.report)), relays = total(of(.relay))
        intake.reportsAdopted = reports.a
        intake.instructions = reports.b
        intake.relays = relays.n
        intake.relayAudience = relays.a
        return intake
    }

    static func proposals(_ of: (FactKind) -> [FigureRow]) -> Xieshang_Analytics_V1_ProposalFigures {
        var proposals = Xieshang_Analytics_V1_ProposalFigures()
        let ps = of(.proposal), pt = total(ps)
        proposals.submitted = pt.n
        proposals.byState = counts(ps.map { (name(Xieshang_Proposal_V1_ProposalState(rawValue: $0.state)), $0.measures.n) })
        proposals.byCategory = counts(ps.map { ($0.category, $0.measures.n) })
        proposals.registered = rate(pt.b, pt.a)
        proposals.handled = rate(pt.done, pt.base)
        proposals.onTime = rate(pt.onTime, pt.timed)
        proposals.satisfied = rate(pt.satisfied, pt.rated)
        proposals.key = pt.c
        return proposals
    }

    static func consultations(_ of: (FactKind) -> [FigureRow]) -> Xieshang_Analytics_V1_ConsultationFigures {
        var consultations = Xieshang_Analytics_V1_ConsultationFigures()
        let cs = of(.consultation), ct = total(cs)
        consultations.started = ct.n
        consultations.byForm = counts(cs.map { ($0.category, $0.measures.n) })
        consultations.byStep = counts(cs.map { (name(Xieshang_Consultation_V1_Step(rawValue: $0.state)), $0.measures.n) })
        consultations.resultsOnTime = rate(ct.onTime, ct.timed)
        consultations.meetingsHeld = total(of(.meeting)).done
        let invitations = of(.invitation)
        func attendance(_ a: Projector.Attendance) -> Int64 { total(invitations.filter { $0.state == a.rawValue }).n }
        consultations.invited = total(invitations).n
        consultations.attended = attendance(.attended)
        consultations.excused = attendance(.excused)
        consultations.absent = attendance(.absent)
        consultations.attendance = rate(consultations.attended, consultations.invited - consultations.excused)
        return consultations
    }

    /// A county's headline figures for a prefecture roll-up.
    public static func countyRow(_ committee: Int64, name: String, rows: [FigureRow], members: Int) -> Xieshang_Analytics_V1_CountyRow {
        let of = grouped(rows)
        let intake = intake(of), proposals = proposals(of), consultations = consultations(of)
        var r = Xieshang_Analytics_V1_CountyRow()
        r.committeeId = committee
        r.name = name
        r.itemsReceived = intake.received
        r.itemsHandled = intake.handled
        r.proposalsSubmitted = proposals.submitted
        r.proposalsHandled = proposals.handled
        r.consultationsStarted = consultations.started
        r.attendance = consultations.attendance
        r.members = Int64(members)
        return r
    }
}
