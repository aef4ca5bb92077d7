import XieshangAPI
import XieshangKit
import XieshangStore

// Which columns of each record the tables keep beside its body (see ConsultationMigrations).

extension Xieshang_Consultation_V1_Plan: StoredEntity {
    public static let entityKind = "consultation_plan"
    public static let table = "consultation_plans"
    public var indexColumns: [(String, SQLValue)] { [("year", .integer(Int64(year))), ("state", .integer(Int64(state.rawValue)))] }
}

extension Xieshang_Consultation_V1_Topic: StoredEntity {
    public static let entityKind = "consultation_topic"
    public static let table = "consultation_topics"
    public var indexColumns: [(String, SQLValue)] {
        [("state", .integer(Int64(state.rawValue))), ("source", .integer(Int64(source.rawValue))), ("category", .text(category)),
         ("search_text", .text(ConsultationStore.topicGrams.searchText(self)))]
    }
}

extension Xieshang_Consultation_V1_Consultation: StoredEntity {
    public static let entityKind = "consultation"
    public static let table = "consultations"
    public var indexColumns: [(String, SQLValue)] {
        [("step", .integer(Int64(step.rawValue))), ("form", .integer(Int64(form.rawValue))), ("level", .integer(Int64(level.rawValue))),
         ("sector_id", .integer(sectorId)), ("town_id", .integer(townId)), ("host_member_id", .integer(hostMemberId)),
         ("unit_keys", .text(SQLFilter.keyList(unitIds + suggestions.map(\.unitId)))), ("topic_id", .integer(topicId)),
         ("held_year", .integer(Int64(CivilDate(heldOn)?.year ?? 0))),
         ("search_text", .text(ConsultationStore.consultationGrams.searchText(self)))]
    }
}

extension Xieshang_Consultation_V1_Meeting: StoredEntity {
    public static let entityKind = "meeting"
    public static let table = "meetings"
    public var indexColumns: [(String, SQLValue)] {
        [("consultation_id", .integer(consultationId)), ("venue_id", .integer(venueId)),
         ("start_min", .integer(ChinaTime(startsAt)?.minutes ?? 0)), ("state", .integer(Int64(state.rawValue))),
         ("member_keys", .text(SQLFilter.keyList([hostMemberId] + invitations.map(\.memberId)))),
         ("talks_pending", .integer(invitations.contains { $0.talkNeeded && $0.talkNote.isEmpty } ? 1 : 0))]
    }
}

extension Xieshang_Consultation_V1_OpinionPost: StoredEntity {
    public static let entityKind = "opinion_post"
    public static let table = "opinion_posts"
    public var indexColumns: [(String, SQLValue)] { [("consultation_id", .integer(consultationId)), ("state", .integer(Int64(state.rawValue)))] }
}

extension Xieshang_Consultation_V1_LiaisonActivity: StoredEntity {
    public static let entityKind = "liaison_activity"
    public static let table = "liaison_activities"
    public var indexColumns: [(String, SQLValue)] { [("town_id", .integer(townId)), ("kind", .integer(Int64(kind.rawValue))), ("on_date", .text(on))] }
}
