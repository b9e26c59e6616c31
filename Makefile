# Convenience targets; CI runs `bash .ci/run`.
.PHONY: test bench sandbox fuzz

test:
	bash .ci/run

sandbox:
	bash cmd/sandbox/run.sh

# Bounded fuzzing of every target (FUZZ_INPUTS each; the tests run only
# their seeds). A count, not a duration: Go 1.26's fuzz coordinator can
# report a spurious "context deadline exceeded" at a -fuzztime deadline
# (go.dev/issue/75804, fixed in 1.27). Needs a Redis like the tests.
FUZZ_INPUTS ?= 20000x
fuzz:
	@set -e; for target in "FuzzParse ./handlers" "FuzzSlackPayload ./handlers" "FuzzContacts ./escalation" "FuzzRunbook ./incident" "FuzzParse ./statuswatch"; do \
	  set -- $$target; go test -run '^$$' -fuzz "^$$1\$$" -fuzztime $(FUZZ_INPUTS) "$$2"; \
	done

# Every benchmark, then one table of their figures for BENCHMARKS.md.
# Needs a Redis: set REDIS_TEST_URL, or have redis-server on PATH.
bench:
	@out=$$(mktemp); \
	{ go test -run '^$$' -bench 'BenchmarkSlashCommandAck$$' -benchtime 300x ./cmd/clerk-incident-bot/; \
	  go test -run '^$$' -bench BenchmarkSlashCommandAckThreeReplicas -benchtime 300x ./cmd/clerk-incident-bot/; \
	  go test -run '^$$' -bench BenchmarkIdleMemory -benchtime 1x ./cmd/clerk-incident-bot/; \
	  go test -run '^$$' -bench BenchmarkBusyIncident -benchtime 3x ./cmd/clerk-incident-bot/; \
	  go test -run '^$$' -bench 'BenchmarkLadderLateness' -benchtime 1x ./escalation/; \
	  go test -run '^$$' -bench BenchmarkSMSReplies1000ThreeReplicas -benchtime 1x ./escalation/; \
	  go test -run '^$$' -bench BenchmarkSMSAckStopsLadder -benchtime 30x ./cmd/clerk-incident-bot/; \
	  go test -run '^$$' -bench BenchmarkDetectionTime -benchtime 1x ./statuswatch/; \
	  go test -run '^$$' -bench BenchmarkRevoke1000Users -benchtime 1x ./clerkops/; \
	  SOAK_DURATION=60s go test -run '^$$' -bench BenchmarkSoakMixedCommands -benchtime 1x ./cmd/clerk-incident-bot/; \
	  go test -run '^$$' -bench BenchmarkResync20000Users -benchtime 1x ./resync/; } | tee $$out; \
	echo; echo "| benchmark figures on $$(uname -m), $$(nproc) cores, $$(go version | cut -d' ' -f3) |"; echo "|---|"; \
	grep -E '^(ack latency|sms |busy incident|detection|idle bot|1000 pages|revoked 2|resync of|soak |progress Finish)' $$out | sort -u | sed 's/^/| /; s/$$/ |/'; rm -f $$out
