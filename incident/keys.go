package incident

// keyspace names every Redis key the incident stores use, under one
// prefix, so the parts agree on keys they share (a change queues its line
// and refresh into the outbox's keys in the same script).
type keyspace string

func (k keyspace) seq() string                 { return string(k) + "incident:seq" }
func (k keyspace) inc(id string) string        { return string(k) + "incident:" + id }
func (k keyspace) timeline(id string) string   { return string(k) + "incident:" + id + ":timeline" }
func (k keyspace) affected(id string) string   { return string(k) + "incident:" + id + ":affected" }
func (k keyspace) draft(id string) string      { return string(k) + "incident:" + id + ":draft" }
func (k keyspace) notice(id string) string     { return string(k) + "incident:" + id + ":notice" }
func (k keyspace) open() string                { return string(k) + "incidents:open" }
func (k keyspace) openCat(c Category) string   { return string(k) + "incidents:open:" + string(c) }
func (k keyspace) all() string                 { return string(k) + "incidents:all" }
func (k keyspace) once(key string) string      { return string(k) + "once:" + key }
func (k keyspace) lease(name string) string    { return string(k) + "lease:" + name }
func (k keyspace) lines(ch string) string      { return string(k) + "lines:" + ch }
func (k keyspace) linesDue() string            { return string(k) + "lines:due" }
func (k keyspace) renderDue() string           { return string(k) + "render:due" }
func (k keyspace) renderLast(id string) string { return string(k) + "render:last:" + id }
func (k keyspace) stale() string               { return string(k) + "incidents:stale-cards" }
func (k keyspace) staleRetry() string          { return string(k) + "incidents:stale-cards:retry" }
func (k keyspace) resolved() string            { return string(k) + "incidents:resolved" }
func (k keyspace) resolvedBackfilled() string  { return string(k) + "incidents:resolved:backfilled" }
