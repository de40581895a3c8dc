// Conformance suites every backend and provider package runs (see docs/extending.md).
export {};
