import XieshangAPI
import XieshangKit

/// Limits and tidying for what reaches intake: text sizes, enums, ticket codes.
public enum ItemRules {
    public static let maxText = 5000
    public static let maxTitle = 100
    public static let maxAttachments = 20
    public static let defaultTimeLimit: Int32 = 15
    public static let maxTimeLimit: Int32 = 120

    /// A title from the first line of `text`, at most 30 characters.
    static func defaultTitle(_ text: String) -> String {
        let first = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
        return first.count > 30 ? String(first.prefix(30)) + "…" : first
    }

    /// Free text that may run over lines (opinions, replies, notes), at most `max` characters.
    public static func longText(_ value: String, _ field: String, required: Bool = true, max: Int = maxText) throws -> String {
        try Check.longText(value, field, required: required, max: max)
    }

    static func attachments(_ list: [Xieshang_Intake_V1_Attachment]) throws -> [Xieshang_Intake_V1_Attachment] {
        if list.count > maxAttachments { throw ValidationFailure(field: "attachments", message: "more than \(maxAttachments)") }
        return try list.enumerated().map { i, a in
            var a = a
            a.kind = try Check.text(a.kind, "attachments[\(i)].kind", max: 20)
            a.uri = try Check.text(a.uri, "attachments[\(i)].uri", max: 1000)
            a.name = try Check.text(a.name, "attachments[\(i)].name", required: false)
            return a
        }
    }

    /// A submitted item, tidied, with everything the submitter may not set cleared.
    public static func submission(_ item: Xieshang_Intake_V1_Item) throws -> Xieshang_Intake_V1_Item {
        var r = Xieshang_Intake_V1_Item()
        r.text = try longText(item.text, "text")
        r.title = try Check.text(item.title, "title", required: false, max: maxTitle)
        r.category = try Check.text(item.category, "category", required: false, max: 20)
        try Check.id(item.townId, "town_id")
        try Check.id(item.villageId, "village_id")
        r.townId = item.townId
        r.villageId = item.villageId
        r.place = try Check.text(item.place, "place", required: false)
        let raiser = item.raiser ?? Xieshang_Intake_V1_Raiser()
        var tidy = Xieshang_Intake_V1_Raiser()
        tidy.name = try Check.text(raiser.name, "raiser.name", required: false, max: 50)
        tidy.phone = try Check.phone(raiser.phone, "raiser.phone")
        try Check.id(raiser.memberId, "raiser.member_id")
        tidy.memberId = raiser.memberId
        r.raiser = tidy
        try Check.id(item.bringingMemberId, "bringing_member_id")
        r.bringingMemberId = item.bringingMemberId
        try Check.known(item.channel, "channel")
        r.channel = item.channel
        r.attachments = try attachments(item.attachments)
        return r
    }

    /// A public submission as an item.
    public static func submission(_ s: Xieshang_Intake_V1_PublicSubmission) throws -> Xieshang_Intake_V1_Item {
        var item = Xieshang_Intake_V1_Item()
        item.text = s.text
        item.category = s.category
        item.townId = s.townId
        item.villageId = s.villageId
        item.place = s.place
        var raiser = Xieshang_Intake_V1_Raiser()
        raiser.name = s.name
        raiser.phone = s.phone
        item.raiser = raiser
        item.channel = s.channel == .unspecified ? .qrPoint : s.channel
        item.attachments = s.attachments
        return try submission(item)
    }

    /// Who raised `item` (an empty raiser when unset).
    public static func raiser(of item: Xieshang_Intake_V1_Item) -> Xieshang_Intake_V1_Raiser {
        item.raiser ?? Xieshang_Intake_V1_Raiser()
    }

    /// The raiser's name as an actor: 群众 when they gave none.
    public static func raiserName(of item: Xieshang_Intake_V1_Item) -> String {
        let name = raiser(of: item).name
        return name.isEmpty ? "群众" : name
    }

    /// Crockford base32 without I, L, O, U: easy to read out over the phone.
    static let ticketAlphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// A new ticket code: 10 characters, 50 random bits.
    public static func newTicketCode() -> String {
        var g = SystemRandomNumberGenerator()
        return String((0..<10).map { _ in ticketAlphabet[Int(g.next() % 32)] })
    }

    /// A ticket code as typed: spaces and dashes dropped, upper-cased, O→0 and I/L→1.
    public static func normalizeTicket(_ code: String) throws -> String {
        let t = String(code.uppercased().filter { !$0.isWhitespace && $0 != "-" })
            .replacingOccurrences(of: "O", with: "0").replacingOccurrences(of: "I", with: "1").replacingOccurrences(of: "L", with: "1")
        guard t.count == 10, t.allSatisfy({ ticketAlphabet.contains($0) }) else {
            throw ValidationFailure(field: "ticket_code", message: "not a ticket code")
        }
        return t
    }

    /// Today's date in China Standard Time (UTC+8, no daylight saving).
    public static func chinaDate(unixMilliseconds ms: Int64) -> CivilDate {
        CivilDate.china(unixMilliseconds: ms)
    }
}
