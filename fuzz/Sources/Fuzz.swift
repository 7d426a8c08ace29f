import RunbookKit

/// libFuzzer's entry: every input goes to `BoundaryFuzzing.run`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    BoundaryFuzzing.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
