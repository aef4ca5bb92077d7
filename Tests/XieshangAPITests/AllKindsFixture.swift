import XieshangAPI

/// The canonical AllKinds value; mirrors CANONICAL in Tests/Python/kinds_fixture.py.
enum AllKindsFixture {
    typealias Inner = Xieshang_Testing_V1_Inner

    static func inner(_ name: String = "", _ count: Int64 = 0, _ children: [Inner] = []) -> Inner {
        var i = Inner()
        i.name = name
        i.count = count
        i.children = children
        return i
    }

    static func note(_ text: String, _ level: Xieshang_Testing_V1_AllKinds.Level) -> Xieshang_Testing_V1_AllKinds.Note {
        var n = Xieshang_Testing_V1_AllKinds.Note()
        n.text = text
        n.level = level
        return n
    }

    static var canonical: Xieshang_Testing_V1_AllKinds {
        var m = Xieshang_Testing_V1_AllKinds()
        m.fDouble = -2.25
        m.fFloat = 1.5
        m.fInt32 = .min
        m.fInt64 = .min
        m.fUint32 = .max
        m.fUint64 = .max
        m.fSint32 = .min
        m.fSint64 = .min
        m.fFixed32 = .max
        m.fFixed64 = .max
        m.fSfixed32 = .min
        m.fSfixed64 = .max
        m.fBool = true
        m.fString = "协商议事室 😈𠀀"
        m.fBytes = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF, 0x00]
        m.fEnum = .negative
        m.fMessage = inner("村委会", -1, [inner("子", 1)])

        m.rDouble = [1.5, -2.25, 0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        m.rFloat = [1.5, -2.25, 0.0, .greatestFiniteMagnitude]
        m.rInt32 = [0, 1, -1, .max, .min]
        m.rInt64 = [0, -1, .max, .min]
        m.rUint32 = [0, 1, .max]
        m.rUint64 = [0, 1, .max]
        m.rSint32 = [-1, 1, .min, .max]
        m.rSint64 = [-1, 1, .min, .max]
        m.rFixed32 = [0, .max]
        m.rFixed64 = [0, .max]
        m.rSfixed32 = [.min, -1, .max]
        m.rSfixed64 = [.min, -1, .max]
        m.rBool = [true, false, true]
        m.rString = ["协商", "", "😈𠀀", "plain ascii"]
        m.rBytes = [[0x00], [], [0xFF, 0xFE, 0x00]]
        m.rEnum = [.red, .negative, .UNRECOGNIZED(7), .unspecified, .green]
        m.rMessage = [inner("一", 1), inner(), inner("三", 3, [inner("三之一", .max)])]

        m.mStringInt32 = ["甲": 1, "乙": -2, "": 0]
        m.mInt64String = [-1: "负一", .max: "最大", 0: "零"]
        m.mStringInner = ["村": inner("村", 2), "镇": inner("镇", 3, [inner("村"), inner("村二")])]
        m.mUint32Enum = [0: .negative, .max: .red]
        m.mBoolBytes = [true: [0x00, 0xFF], false: []]

        m.choice = .cInner(inner("议题", 42, [inner("甲", 1), inner("乙", -2, [inner("乙之一", .min)])]))
        m.maybeCount = 0
        m.level = .village
        m.notes = [note("第一条 😈", .town), note("second", .village)]
        return m
    }
}
