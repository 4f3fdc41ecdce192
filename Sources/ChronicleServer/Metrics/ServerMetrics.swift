import Prometheus

/// The server's Prometheus metrics, on a registry of its own (no global bootstrap), so
/// several servers in one process (as in tests) keep separate figures.
public final class ServerMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry = PrometheusCollectorRegistry()

    private var requestsDescriptor: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "http_requests", unitName: "total", helpText: "HTTP requests by method, route and status.")
    }

    private var requestDurationDescriptor: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request duration by method and route.")
    }

    private var appendDurationDescriptor: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "append_duration", unitName: "seconds", helpText: "Time to append (and durably commit) one request's events.")
    }

    private var eventsAppendedDescriptor: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "events_appended", unitName: "total", helpText: "Events appended through this server.")
    }

    private var subscribersDescriptor: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "subscribers", unitName: "", helpText: "Connected subscribers by transport (sse, websocket).")
    }

    private var headDescriptor: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "log_head_position", unitName: "", helpText: "Position of the last event in the log.")
    }

    private var storeSizeDescriptor: MetricNameDescriptor {
        .init(namespace: "chronicle", metricName: "store_size", unitName: "bytes", helpText: "Size of the store on disk.")
    }

    private static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
    ]

    /// Creates the metrics and registers the gauges at zero.
    public init() {
        for transport in ["sse", "websocket"] {
            registry.makeGauge(descriptor: subscribersDescriptor, labels: [("transport", transport)]).set(to: 0)
        }
        registry.makeCounter(descriptor: eventsAppendedDescriptor).reset()
    }

    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: requestsDescriptor, labels: [("method", method), ("route", route), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: requestDurationDescriptor, labels: [("method", method), ("route", route)], buckets: Self.durationBuckets).record(duration)
    }

    func recordAppend(events: Int, duration: Duration) {
        registry.makeCounter(descriptor: eventsAppendedDescriptor).increment(by: Int64(events))
        registry.makeDurationHistogram(descriptor: appendDurationDescriptor, labels: [], buckets: Self.durationBuckets).record(duration)
    }

    func subscriberConnected(_ transport: String) {
        registry.makeGauge(descriptor: subscribersDescriptor, labels: [("transport", transport)]).increment(by: 1)
    }

    func subscriberDisconnected(_ transport: String) {
        registry.makeGauge(descriptor: subscribersDescriptor, labels: [("transport", transport)]).decrement(by: 1)
    }

    func recordStore(head: Int64, size: Int64?) {
        registry.makeGauge(descriptor: headDescriptor).set(to: Double(head))
        if let size {
            registry.makeGauge(descriptor: storeSizeDescriptor).set(to: Double(size))
        }
    }

    /// The Prometheus text exposition.
    public func render() -> [UInt8] {
        var output: [UInt8] = []
        registry.emit(into: &output)
        return output
    }
}
