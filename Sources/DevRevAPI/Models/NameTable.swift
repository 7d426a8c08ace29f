#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Names looked up by their UTF-8 bytes, without making a `String`: the fields of a request or
/// response object, for code that reads keys as bytes (a Lua table's, a JSON text's).
public struct NameTable: Sendable {
    private let names: [[UInt8]]
    /// Open addressing by the names' hashes, at most half full; -1 where empty.
    private let slots: [Int32]

    public init(_ names: [String]) {
        self.names = names.map { Array($0.utf8) }
        var size = 4
        while size < names.count * 2 { size *= 2 }
        var slots = [Int32](repeating: -1, count: size)
        for (index, name) in self.names.enumerated() {
            var slot = name.withUnsafeBytes { Self.hash($0) } & (size - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (size - 1) }
            slots[slot] = Int32(index)
        }
        self.slots = slots
    }

    /// The position (in the names given) of the name whose UTF-8 bytes are `key`.
    public func index(of key: UnsafeRawBufferPointer) -> Int? {
        let mask = slots.count - 1
        var slot = Self.hash(key) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { return nil }
            let equal = names[index].withUnsafeBytes { name in
                name.count == key.count && (key.count == 0 || memcmp(name.baseAddress!, key.baseAddress!, key.count) == 0)
            }
            if equal { return index }
            slot = (slot + 1) & mask
        }
    }

    /// A hash of a name from its length and its first and last eight bytes (names are short,
    /// and every hit is checked byte for byte).
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        let count = bytes.count
        var word = UInt64(count) &* 0x9E37_79B9_7F4A_7C15
        if count >= 8 {
            word ^= bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            word = (word &* 0xFF51_AFD7_ED55_8CCD) ^ bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        } else {
            for byte in bytes { word = word << 8 ^ UInt64(byte) }
        }
        word = (word ^ word >> 33) &* 0xC4CE_B9FE_1A85_EC53
        return Int(truncatingIfNeeded: word ^ word >> 29)
    }
}
