import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore


extension DirectoryService: Xieshang_Directory_V1_DirectoryServiceProvider {
    // MARK: Committees

    public func createCommittee(request: Xieshang_Directory_V1_Committee, context: ServerContext) async throws -> Xieshang_Directory_V1_Committee {
        let caller = try Caller(context: context)
        // Services create prefectures; a prefecture admin creates its own counties.
        if !caller.isSystem {
            try caller.require(.prefectureAdmin, to: "creating a committee")
            guard request.level == .county, request.parentId == caller.committeeID else {
                throw DomainError.forbidden("a prefecture admin creates county committees under its own committee only")
            }
        }
        return try await store.createCommittee(request, actor: caller.actor)
    }

    public func getCommittee(request: Xieshang_Directory_V1_GetRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_Committee {
        let caller = try reader(context)
        let visible = caller.isSystem ? true : try await store.committee(caller.committeeID, oversees: request.id)
        guard visible else {
            throw DomainError.notFound(kind: "committee", id: "\(request.id)")
        }
        return try await store.get(Xieshang_Directory_V1_Committee.self, id: request.id, committee: request.id)
    }

    public func listCommittees(request: Xieshang_Directory_V1_ListRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ListCommitteesResponse {
        let caller = try reader(context)
        let p = try await store.committees(visibleTo: caller.committeeID, page: PageRequest(size: request.pageSize, token: request.pageToken), query: request.query)
        var r = Xieshang_Directory_V1_ListCommitteesResponse()
        r.committees = p.items
        r.nextPageToken = p.nextToken
        return r
    }

    // MARK: Reference lists

    public func createTerm(request: Xieshang_Directory_V1_Term, context: ServerContext) async throws -> Xieshang_Directory_V1_Term {
        let caller = try admin(context)
        return try await store.create(request, committee: caller.committeeID, actor: caller.actor)
    }

    public func updateTerm(request: Xieshang_Directory_V1_Term, context: ServerContext) async throws -> Xieshang_Directory_V1_Term {
        let caller = try admin(context)
        return try await store.update(request, committee: caller.committeeID, actor: caller.actor)
    }

    public func listTerms(request: Xieshang_Directory_V1_ListRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ListTermsResponse {
        let p = try await page(Xieshang_Directory_V1_Term.self, try reader(context), request)
        var r = Xieshang_Directory_V1_ListTermsResponse()
        r.terms = p.items
        r.nextPageToken = p.nextToken
        return r
    }

    public func createSector(request: Xieshang_Directory_V1_Sector, context: ServerContext) async throws -> Xieshang_Directory_V1_Sector {
        let caller = try admin(context)
        return try await store.create(request, committee: caller.committeeID, actor: caller.actor)
    }

    public func updateSector(request: Xieshang_Directory_V1_Sector, context: ServerContext) async throws -> Xieshang_Directory_V1_Sector {
        let caller = try admin(context)
        return try await store.update(request, committee: caller.committeeID, actor: caller.actor)
    }

    public func listSectors(request: Xieshang_Directory_V1_ListRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ListSectorsResponse {
        let p = try await page(Xieshang_Directory_V1_Sector.self, try reader(context), request)
        var r = Xieshang_Directory_V1_ListSectorsResponse()
        r.sectors = p.items
        r.nextPageToken = p.nextToken
        return r
    }

    public func createParty(request: Xieshang_Directory_V1_Party, context: ServerContext) async throws -> Xieshang_Directory_V1_Party {
        let caller = try admin(context)
        return try await store.create(request, committee: caller.committeeID, actor: caller.actor)
    }

    public func updateParty(request: Xieshang_Directory_V1_Party, context: ServerContext) async throws -> Xieshang_Directory_V1_Party {
        let caller = try admin(context)
        return try await store.update(request, committee: caller.committeeID, actor: caller.actor)
    }

    public func listParties(request: Xieshang_Directory_V1_ListRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ListPartiesResponse {
        let p = try await page(Xieshang_Directory_V1_Party.self, try reader(context), request)
        var r = Xieshang_Directory_V1_ListPartiesResponse()
        r.parties = p.items
        r.nextPageToken = p.nextToken
        return r
    }

    public func createSpecialCommittee(request: Xieshang_Directory_V1_SpecialCommittee, context: ServerContext) async throws -> Xieshang_Directory_V1_SpecialCommittee {
        let caller = try admin(context)
        return try await store.create(request, committee: caller.committeeID, actor: caller.actor)
    }

    public func updateSpecialCommittee(request: Xieshang_Directory_V1_SpecialCommittee, context: ServerContext) async throws -> Xieshang_Directory_V1_SpecialCommittee {
        let caller = try admin(context)
        return try await store.update(request, committee: caller.committeeID, actor: caller.actor)
    }

    public func listSpecialCommittees(request: Xieshang_Directory_V1_ListRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ListSpecialCommitteesResponse {
        let p = try await page(Xieshang_Directory_V1_SpecialCommittee.self, try reader(context), request)
        var r = Xieshang_Directory_V1_ListSpecialCommitteesResponse()
        r.specialCommittees = p.items
        r.nextPageToken = p.nextToken
        return r
    }

    // MARK: Areas and stations

    public func createArea(request: Xieshang_Directory_V1_Area, context: ServerContext) async throws -> Xieshang_Directory_V1_Area {
        let caller = try admin(context)
        return try await store.create(request, committee: caller.committeeID, actor: caller.actor) { a, conn in try References.area(a, on: conn) }
    }

    public func updateArea(request: Xieshang_Directory_V1_Area, context: ServerContext) async throws -> Xieshang_Directory_V1_Area {
        let caller = try admin(context)
        return try await store.update(request, committee: caller.committeeID, actor: caller.actor) { current, next, conn in
            if current.level != next.level { throw DomainError.invalid(field: "level", message: "an area's level cannot change") }
            try References.area(next, on: conn)
        }
    }

    public func getArea(request: Xieshang_Directory_V1_GetRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_Area {
        try await store.get(Xieshang_Directory_V1_Area.self, id: request.id, committee: try reader(context).committeeID)
    }

    public func listAreas(request: Xieshang_Directory_V1_ListAreasRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ListAreasResponse {
        let caller = try reader(context)
        var f = baseFilter(query: request.query, includeArchived: request.includeArchived)
        if request.level != .unspecified { f.add("level = ?", .integer(Int64(request.level.rawValue))) }
        f.equal("parent_id", request.parentId)
        let p = try await store.list(Xieshang_Directory_V1_Area.self, committee: caller.committeeID, filter: f,
                                     page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Directory_V1_ListAreasResponse()
        r.areas = p.items
        r.nextPageToken = p.nextToken
        r.total = Int32(p.total)
        return r
    }

    public func createWorkStation(request: Xieshang_Directory_V1_WorkStation, context: ServerContext) async throws -> Xieshang_Directory_V1_WorkStation {
        let caller = try admin(context)
        return try await store.create(request, committee: caller.committeeID, actor: caller.actor) { w, conn in try References.station(w, on: conn) }
    }

    public func updateWorkStation(request: Xieshang_Directory_V1_WorkStation, context: ServerContext) async throws -> Xieshang_Directory_V1_WorkStation {
        let caller = try admin(context)
        return try await store.update(request, committee: caller.committeeID, actor: caller.actor) { _, w, conn in try References.station(w, on: conn) }
    }

    public func getWorkStation(request: Xieshang_Directory_V1_GetRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_WorkStation {
        try await store.get(Xieshang_Directory_V1_WorkStation.self, id: request.id, committee: try reader(context).committeeID)
    }

    public func listWorkStations(request: Xieshang_Directory_V1_ListWorkStationsRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ListWorkStationsResponse {
        let caller = try reader(context)
        var f = baseFilter(query: request.query, includeArchived: request.includeArchived)
        if request.level != .unspecified { f.add("level = ?", .integer(Int64(request.level.rawValue))) }
        f.equal("town_id", request.townId)
        let p = try await store.list(Xieshang_Directory_V1_WorkStation.self, committee: caller.committeeID, filter: f,
                                     page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Directory_V1_ListWorkStationsResponse()
        r.workStations = p.items
        r.nextPageToken = p.nextToken
        r.total = Int32(p.total)
        return r
    }

    // MARK: Units

    public func createUnit(request: Xieshang_Directory_V1_Unit, context: ServerContext) async throws -> Xieshang_Directory_V1_Unit {
        let caller = try admin(context)
        return try await store.create(request, committee: caller.committeeID, actor: caller.actor) { u, conn in try References.unit(u, on: conn) }
    }

    public func updateUnit(request: Xieshang_Directory_V1_Unit, context: ServerContext) async throws -> Xieshang_Directory_V1_Unit {
        let caller = try admin(context)
        return try await store.update(request, committee: caller.committeeID, actor: caller.actor) { _, u, conn in try References.unit(u, on: conn) }
    }

    public func getUnit(request: Xieshang_Directory_V1_GetRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_Unit {
        try await store.get(Xieshang_Directory_V1_Unit.self, id: request.id, committee: try reader(context).committeeID)
    }

    func unitFilter(_ request: Xieshang_Directory_V1_ListUnitsRequest) -> SQLFilter {
        var f = baseFilter(query: request.query, includeArchived: request.includeArchived)
        if request.kind != .unspecified { f.add("kind = ?", .integer(Int64(request.kind.rawValue))) }
        return f
    }

    public func listUnits(request: Xieshang_Directory_V1_ListUnitsRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ListUnitsResponse {
        let caller = try reader(context)
        let p = try await store.list(Xieshang_Directory_V1_Unit.self, committee: caller.committeeID, filter: unitFilter(request),
                                     page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Directory_V1_ListUnitsResponse()
        r.units = p.items
        r.nextPageToken = p.nextToken
        r.total = Int32(p.total)
        return r
    }

    public func importUnits(request: Xieshang_Directory_V1_ImportRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ImportResponse {
        let caller = try admin(context, to: "importing units")
        return importResponse(try await store.importUnits(request.csv, committee: caller.committeeID, actor: caller.actor,
                                                          dryRun: request.dryRun, updateExisting: request.updateExisting))
    }

    public func exportUnits(request: Xieshang_Directory_V1_ListUnitsRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_CsvFile {
        let caller = try reader(context)
        let units = try await store.all(Xieshang_Directory_V1_Unit.self, committee: caller.committeeID, filter: unitFilter(request))
        let names = try await store.names(committee: caller.committeeID)
        return csvResponse(UnitCSV.write(units, names: names), rows: units.count)
    }

    // MARK: Members

    public func createMember(request: Xieshang_Directory_V1_Member, context: ServerContext) async throws -> Xieshang_Directory_V1_Member {
        let caller = try admin(context)
        return try await store.create(request, committee: caller.committeeID, actor: caller.actor) { m, conn in try References.member(m, on: conn) }
    }

    public func updateMember(request: Xieshang_Directory_V1_Member, context: ServerContext) async throws -> Xieshang_Directory_V1_Member {
        let caller = try admin(context)
        return try await store.update(request, committee: caller.committeeID, actor: caller.actor) { _, m, conn in try References.member(m, on: conn) }
    }

    public func getMember(request: Xieshang_Directory_V1_GetRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_Member {
        try await store.get(Xieshang_Directory_V1_Member.self, id: request.id, committee: try reader(context).committeeID)
    }

    func memberFilter(_ request: Xieshang_Directory_V1_ListMembersRequest) -> SQLFilter {
        var f = baseFilter(query: request.query, includeArchived: request.includeArchived, archivedColumn: "retired",
                           nameColumns: ["name", "code"])
        f.equal("term_id", request.termId)
        f.equal("sector_id", request.sectorId)
        f.equal("party_id", request.partyId)
        f.equal("station_id", request.stationId)
        if request.townId != 0 {
            let t = SQLValue.integer(request.townId)
            f.add("(residence_town_id = ? OR work_town_id = ? OR contact_town_id = ? OR assistance_town_id = ?)", t, t, t, t)
        }
        f.hasKey("special_committees", request.specialCommitteeId)
        if request.standingOnly { f.add("standing = 1") }
        if request.convenorsOnly { f.add("convenor = 1") }
        return f
    }

    public func listMembers(request: Xieshang_Directory_V1_ListMembersRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ListMembersResponse {
        let caller = try reader(context)
        let p = try await store.list(Xieshang_Directory_V1_Member.self, committee: caller.committeeID, filter: memberFilter(request),
                                     page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Directory_V1_ListMembersResponse()
        r.members = p.items
        r.nextPageToken = p.nextToken
        r.total = Int32(p.total)
        return r
    }

    public func importMembers(request: Xieshang_Directory_V1_ImportRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ImportResponse {
        let caller = try admin(context, to: "importing members")
        return importResponse(try await store.importMembers(request.csv, committee: caller.committeeID, actor: caller.actor,
                                                            dryRun: request.dryRun, updateExisting: request.updateExisting))
    }

    public func exportMembers(request: Xieshang_Directory_V1_ListMembersRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_CsvFile {
        let caller = try reader(context)
        let members = try await store.all(Xieshang_Directory_V1_Member.self, committee: caller.committeeID, filter: memberFilter(request))
        let names = try await store.names(committee: caller.committeeID)
        return csvResponse(MemberCSV.write(members, names: names), rows: members.count)
    }

    // MARK: Watch

    public func watch(request: Xieshang_Events_V1_WatchRequest, responses: ResponseWriter<Xieshang_Events_V1_Event>, context: ServerContext) async throws {
        try await feed.watch(request, caller: try Caller(context: context), responses: responses)
    }

    public func history(request: Xieshang_Events_V1_HistoryRequest, context: ServerContext) async throws -> Xieshang_Events_V1_HistoryResponse {
        try await feed.history(request, caller: try Caller(context: context))
    }
}
