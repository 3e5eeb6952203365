"""The demo province and its simulated users, for `kiemtra demo`, the tests and the benchmarks only: production code
never imports this package (tests/unit/test_demo_room.py). :mod:`.seed` seeds agencies, people, the registry and a
campaign; :mod:`.users` plays the inspectors, the lead and the officials over HTTP; :mod:`.registry` makes up a
realistic synthetic registry."""
