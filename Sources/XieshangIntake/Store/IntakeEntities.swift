import XieshangAPI
import XieshangKit
import XieshangStore

// Which columns of each record the tables keep beside its body (see IntakeMigrations).

extension Xieshang_Intake_V1_Item: StoredEntity {
    public static let entityKind = "item"
    public static let table = "items"
    public var indexColumns: [(String, SQLValue)] {
        [("ticket_code", .text(ticketCode)), ("state", .integer(Int64(state.rawValue))), ("category", .text(category)),
         ("town_id", .integer(townId)), ("village_id", .integer(villageId)), ("unit_id", .integer(unitId)),
         ("bringing_member_id", .integer(bringingMemberId)), ("handling_member_id", .integer(handlingMemberId)),
         ("raiser_member_id", .integer(ItemRules.raiser(of: self).memberId)), ("channel", .integer(Int64(channel.rawValue))),
         ("received_on", .text(receivedOn)), ("due_date", .text(dueDate)), ("search_text", .text(searchText))]
    }

    /// What text search looks in: title and text, normalised.
    var searchText: String { IntakeStore.gramIndex.searchText(self) }
}

extension Xieshang_Intake_V1_Relay: StoredEntity {
    public static let entityKind = "relay"
    public static let table = "relays"
    public var indexColumns: [(String, SQLValue)] {
        [("member_id", .integer(memberId)), ("item_id", .integer(itemId)), ("town_id", .integer(townId)),
         ("date", .text(date)), ("audience_size", .integer(Int64(audienceSize)))]
    }
}

extension Xieshang_Intake_V1_OpinionReport: StoredEntity {
    public static let entityKind = "report"
    public static let table = "reports"
    public var indexColumns: [(String, SQLValue)] {
        [("state", .integer(Int64(state.rawValue))), ("adopted", adopted.sqlValue), ("title", .text(title))]
    }
}

extension Xieshang_Intake_V1_Bulletin: StoredEntity {
    public static let entityKind = "bulletin"
    public static let table = "bulletins"
    public var indexColumns: [(String, SQLValue)] {
        [("year", .integer(Int64(year))), ("number", .integer(Int64(number)))]
    }
}
