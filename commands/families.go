package commands

// Unwired is every family in help order, without dependencies: the table
// that help and the parser read when no handlers are wired. Its rows'
// Run must not be called. The program passes the same families, wired,
// in the same order (TestAssembledTableIsTheTable).
func Unwired() []Family {
	return []Family{
		&Opening{}, &Lifecycle{}, &Reports{},
		&Checklist{},
		&Escalation{}, &Contacts{}, &OnCall{},
		&Security{}, &Hardening{},
		&Investigate{},
		&Roles{}, &Updates{}, &Drafts{},
		&Bypass{},
		&Approvals{},
		&Watch{}, &Probes{},
		&WebhookCheck{}, &Resync{},
		&Webhooks{},
		&Deploys{},
		&Audit{},
		&Followups{},
		&Milestones{},
	}
}
