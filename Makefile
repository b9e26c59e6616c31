# Convenience targets; CI runs `bash .ci/run`.
.PHONY: test bench sandbox

test:
	bash .ci/run

sandbox:
	go run ./cmd/sandbox

# Every benchmark; the figures go in BENCHMARKS.md. Needs a Redis: set
# REDIS_TEST_URL, or have redis-server on PATH.
bench:
	go test -run '^$$' -bench 'BenchmarkSlashCommandAck$$' -benchtime 300x ./cmd/clerk-incident-bot/
	go test -run '^$$' -bench BenchmarkSlashCommandAckThreeReplicas -benchtime 300x ./cmd/clerk-incident-bot/
	go test -run '^$$' -bench BenchmarkIdleMemory -benchtime 1x ./cmd/clerk-incident-bot/
	go test -run '^$$' -bench BenchmarkLadderLateness -benchtime 1x ./escalation/
	go test -run '^$$' -bench BenchmarkRevoke1000Users -benchtime 1x ./clerkops/
	go test -run '^$$' -bench BenchmarkResync20000Users -benchtime 1x ./resync/
