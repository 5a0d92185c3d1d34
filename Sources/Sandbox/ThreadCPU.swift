#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(CDispatch)
// Where Swift's Linux overlay declares `timespec`'s fields.
import CDispatch
#endif

/// The processor time the calling thread has used, to the nanosecond: timing synchronous work whatever else the
/// process runs meanwhile.
enum ThreadCPU {
    static func now() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }
}
