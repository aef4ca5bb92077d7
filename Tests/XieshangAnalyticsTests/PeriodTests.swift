import XCTest
@testable import XieshangAnalytics

final class PeriodTests: XCTestCase {
    func testWholeMonthsAndEdges() {
        let year = Period(from: 20260101, to: 20261231).split
        XCTAssertEqual(year.months, 202601...202612)
        XCTAssertEqual(year.edges, [])
        let odd = Period(from: 20260115, to: 20260410).split
        XCTAssertEqual(odd.months, 202602...202603)
        XCTAssertEqual(odd.edges, [Period(from: 20260115, to: 20260131), Period(from: 20260401, to: 20260410)])
        let inside = Period(from: 20260203, to: 20260227).split
        XCTAssertNil(inside.months)
        XCTAssertEqual(inside.edges, [Period(from: 20260203, to: 20260227)])
        let across = Period(from: 20251215, to: 20260131).split
        XCTAssertEqual(across.months, 202601...202601)
        XCTAssertEqual(across.edges, [Period(from: 20251215, to: 20251231)])
        XCTAssertEqual(Period(from: 20240229, to: 20241231).yearEarlier, Period(from: 20230228, to: 20231231))
    }
}
