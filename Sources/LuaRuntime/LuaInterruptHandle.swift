import CLuaBridge
import Synchronization

/// Stops a running script from another thread (a signal handler's queue, say): the script ends at
/// its next hook check with `LuaScriptError.Kind.interrupted`, and cannot catch it.
public final class LuaInterruptHandle: Sendable {
    /// The VM, until the runtime goes away. The lock guards it against the runtime's deinit;
    /// rb_request_interrupt itself is atomic.
    private let vm: Mutex<VM?>

    /// The VM's address, handed between threads only under the lock.
    private struct VM: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<rb_vm>
    }

    init(vm: UnsafeMutablePointer<rb_vm>) { self.vm = Mutex(VM(pointer: vm)) }

    /// Asks the script to stop, with `message` as its error (e.g. "interrupted by SIGTERM").
    public func interrupt(message: String) {
        vm.withLock { vm in
            guard let vm = vm?.pointer else { return }
            if vm.pointee.interrupt_requested == 0 {
                withUnsafeMutableBytes(of: &vm.pointee.interrupt_text) { raw in
                    let bytes = Array(message.utf8.prefix(raw.count - 1))
                    raw.copyBytes(from: bytes)
                    raw[bytes.count] = 0
                }
            }
            rb_request_interrupt(vm)
        }
    }

    func invalidate() {
        vm.withLock { $0 = nil }
    }
}
