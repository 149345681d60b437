"""`ocpi-ledger demo TOPOLOGY`: the topologies of OCPI 2.2.1 chapter 3 as real processes."""
