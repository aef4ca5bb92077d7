import XCTest
import XieshangAPI
import XieshangKit
@testable import XieshangProposal

final class ProposalMachineTests: XCTestCase {
    func testPlaceholder() {}
}
