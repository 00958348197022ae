"""The teacher kinds' loaders, one module each (a `TeacherKind`); each kind's recipe section
and registration are in `sslctl/specs/teachers/` (torch-free), which names its loader here."""
