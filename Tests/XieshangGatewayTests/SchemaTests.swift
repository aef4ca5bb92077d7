import XCTest
import XieshangAPI
import XieshangRPC
@testable import XieshangGateway

final class SchemaTests: XCTestCase {
    let pool = DescriptorPool.shared

    func testThePoolKnowsEveryGeneratedServiceAndItsShapes() {
        let intake = pool.services[Xieshang_Intake_V1_IntakeService.name]
        XCTAssertEqual(intake?.first?.name, "SubmitPublic")
        XCTAssertEqual(pool.method(path: "/xieshang.intake.v1.IntakeService/Watch")?.kind, .serverStreaming)
        XCTAssertEqual(pool.method(path: "/xieshang.analytics.v1.AnalyticsService/Rebuild")?.output, "xieshang.analytics.v1.RebuildProgress")
        XCTAssertEqual(pool.method(path: "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")?.kind, .bidirectionalStreaming)
        XCTAssertEqual(pool.symbols["xieshang.intake.v1.Item"], "xieshang/intake/v1/intake.proto")
        XCTAssertEqual(pool.symbols["xieshang.intake.v1.IntakeService.GetItem"], "xieshang/intake/v1/intake.proto")
        XCTAssertEqual(pool.enumName("xieshang.intake.v1.ItemState", 1), "ITEM_STATE_RECEIVED")
        let files = pool.fileWithDependencies("xieshang/intake/v1/intake.proto").map(\.name)
        XCTAssertEqual(files.first, "xieshang/intake/v1/intake.proto")
        XCTAssertTrue(files.contains("xieshang/events/v1/events.proto"))
    }

    func testReflectionAnswersBySymbolFileAndServiceList() {
        let index = ReflectionIndex(services: ["b.S", "a.S"])
        XCTAssertEqual(index.answer(.listServices), .services(["a.S", "b.S"]))
        guard case .files(let files) = index.answer(.fileContainingSymbol("xieshang.gateway.v1.GatewayService.Escalate")) else {
            return XCTFail("no file for a gateway method")
        }
        XCTAssertEqual(files.first, pool.files["xieshang/gateway/v1/gateway.proto"]?.descriptor)
        XCTAssertEqual(files.count, 2, "gateway.proto and the principal it imports")
        guard case .error(let code, _) = index.answer(.fileContainingSymbol("no.such.Thing")) else { return XCTFail() }
        XCTAssertEqual(code, .notFound)
    }

    func testJSONBecomesTheSameBytesTheTypedMessageDecodes() throws {
        let codec = JSONCodec()
        let bytes = try codec.encode(json: """
            {"query": "漏水", "states": ["ITEM_STATE_ROUTED", 7], "member_id": "9007199254740993", "pageSize": 20, "overdueOnly": true}
            """, as: "xieshang.intake.v1.ListItemsRequest")
        let r = try Xieshang_Intake_V1_ListItemsRequest(serializedBytes: bytes)
        XCTAssertEqual(r.query, "漏水")
        XCTAssertEqual(r.states.map(\.rawValue), [Xieshang_Intake_V1_ItemState.routed.rawValue, 7])
        XCTAssertEqual(r.memberId, 9_007_199_254_740_993)
        XCTAssertEqual(r.pageSize, 20)
        XCTAssertTrue(r.overdueOnly)
    }

    func testTypedBytesBecomeProto3JSON() throws {
        var item = Xieshang_Intake_V1_Item()
        item.id = 42
        item.text = "楼栋墙体长期漏水"
        item.state = .closed
        var raiser = Xieshang_Intake_V1_Raiser()
        raiser.name = "王"
        item.raiser = raiser
        item.mergedIds = [3, 4]
        let json = try JSONCodec().decode(item.serializedBytes(), as: "xieshang.intake.v1.Item")
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        XCTAssertEqual(object["id"] as? String, "42")
        XCTAssertEqual(object["text"] as? String, "楼栋墙体长期漏水")
        XCTAssertEqual(object["state"] as? String, "ITEM_STATE_CLOSED")
        XCTAssertEqual((object["raiser"] as? [String: Any])?["name"] as? String, "王")
        XCTAssertEqual(object["mergedIds"] as? [String], ["3", "4"], "packed repeated int64")
        XCTAssertTrue(json.contains("楼栋"), "Chinese is written as itself, not escaped")
        // And back: the same message.
        let again = try JSONCodec().encode(json: json, as: "xieshang.intake.v1.Item")
        XCTAssertEqual(try Xieshang_Intake_V1_Item(serializedBytes: again), item)
    }

    func testCompactJSONIsTheSameObjectAsThePrettyOne() throws {
        var item = Xieshang_Intake_V1_Item()
        item.id = 42
        item.text = "楼栋\"墙体\"\\漏水\n第二行\t\u{01}"
        item.state = .closed
        var raiser = Xieshang_Intake_V1_Raiser()
        raiser.name = "王"
        item.raiser = raiser
        item.mergedIds = [3, 4]
        let codec = JSONCodec()
        let bytes = item.serializedBytes()
        let compact = try codec.compactJSON(bytes, as: "xieshang.intake.v1.Item")
        XCTAssertFalse(compact.contains(UInt8(ascii: "\n")), "one line")
        let a = try JSONSerialization.jsonObject(with: Data(compact)) as! NSDictionary
        let b = try JSONSerialization.jsonObject(with: Data(try codec.decode(bytes, as: "xieshang.intake.v1.Item").utf8)) as! NSDictionary
        XCTAssertEqual(a, b)
        XCTAssertEqual(a["text"] as? String, item.text)
        // And back to the same message.
        XCTAssertEqual(try Xieshang_Intake_V1_Item(serializedBytes: try codec.encode(json: String(decoding: compact, as: UTF8.self), as: "xieshang.intake.v1.Item")), item)
        XCTAssertEqual(try JSONText.bytes([Double.nan, -Double.infinity, 1.5, true, 7] as [Any]), Array(#"["NaN","-Infinity",1.5,true,7]"#.utf8))
    }

    func testZeroAndOneAreIntegersAndBooleansAreNot() throws {
        // Foundation bridges the numbers 0 and 1 to Bool: they were refused as integers.
        let codec = JSONCodec()
        for n in [0, 1] {
            let bytes = try codec.encode(json: #"{"pageSize": \#(n), "memberId": \#(n)}"#, as: "xieshang.intake.v1.ListItemsRequest")
            let r = try Xieshang_Intake_V1_ListItemsRequest(serializedBytes: bytes)
            XCTAssertEqual(r.pageSize, Int32(n))
            XCTAssertEqual(r.memberId, Int64(n))
        }
        XCTAssertThrowsError(try codec.encode(json: #"{"pageSize": true}"#, as: "xieshang.intake.v1.ListItemsRequest")) {
            XCTAssertEqual("\($0)", "pageSize: expected an integer")
        }
        XCTAssertThrowsError(try codec.encode(json: #"{"overdueOnly": 1}"#, as: "xieshang.intake.v1.ListItemsRequest")) {
            XCTAssertEqual("\($0)", "overdueOnly: expected true or false")
        }
        let off = try codec.encode(json: #"{"overdueOnly": false}"#, as: "xieshang.intake.v1.ListItemsRequest")
        XCTAssertFalse(try Xieshang_Intake_V1_ListItemsRequest(serializedBytes: off).overdueOnly)
    }

    func testBadJSONNamesTheField() {
        let codec = JSONCodec()
        XCTAssertThrowsError(try codec.encode(json: #"{"query": 5}"#, as: "xieshang.intake.v1.ListItemsRequest")) {
            XCTAssertEqual("\($0)", "query: expected a string")
        }
        XCTAssertThrowsError(try codec.encode(json: #"{"states": ["CLOSED"]}"#, as: "xieshang.intake.v1.ListItemsRequest")) {
            XCTAssertTrue("\($0)".hasPrefix("states[0]: 'CLOSED' is not a value of xieshang.intake.v1.ItemState"), "\($0)")
        }
        XCTAssertThrowsError(try codec.encode(json: #"{"pageSize": 3000000000}"#, as: "xieshang.intake.v1.ListItemsRequest")) {
            XCTAssertEqual("\($0)", "pageSize: 3000000000 does not fit int32")
        }
        XCTAssertThrowsError(try codec.encode(json: "{", as: "xieshang.intake.v1.ListItemsRequest"))
    }
}
