"""Privacy requests: the register on its legal clock, identity checks, access exports,
erasure here and on the web store, deactivation, restriction and objection, refusals,
disclosures, policy-change notices and the retention job. One idea per module."""
