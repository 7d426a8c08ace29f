@testable import DevRevAPI
import Testing

/// A call from a task that prefers the client's event loop stays on that loop: it is sent, read,
/// retried after its backoff and resumed there, with no hop to Swift's global pool.
@Suite("The client's event loop")
struct EventLoopTaskExecutorTests {
    @Test func aCallStartedOnTheClientsLoopIsRetriedAndResumedThere() async throws {
        let (places, requests) = try await withServer({ _, index in
            index == 0 ? .json(503, #"{"type":"service_unavailable","message":"down"}"#) : .json(200, incidentJSON)
        }) { client, server in
            let loop = client.taskExecutor.loop
            let places = try await Task(executorPreference: client.taskExecutor) { () async throws -> [Bool] in
                var places = [loop.inEventLoop]
                for _ in 0..<3 {
                    let exchange = try await client.send(.getIncident, body: Array(#"{"id":"INC-42"}"#.utf8))
                    #expect(exchange.status == 200)
                    places.append(loop.inEventLoop)
                }
                return places
            }.value
            return (places, server.requests.count)
        }
        #expect(places == [true, true, true, true], "the task runs on the client's loop, before and after each call")
        #expect(requests == 4, "the first call was retried once")
    }

    @Test func withoutThePreferenceACallResumesOffTheLoop() async throws {
        let onLoop = try await withServer({ _, _ in .json(200, incidentJSON) }) { client, _ in
            let loop = client.taskExecutor.loop
            return try await Task.detached { () async throws -> Bool in
                _ = try await client.send(.getIncident, body: Array(#"{"id":"INC-42"}"#.utf8))
                return loop.inEventLoop
            }.value
        }
        #expect(!onLoop, "Swift's global pool resumes it: the preference is what keeps a call on the loop")
    }
}
