"""Java-generic generation: records, enums, rules, decision tables and transforms as plain Java,
the expression writer, Java naming and spelling, and the framework-free L0 runtime. A target
that writes Java (generate/flink/) builds on it; nothing here imports a target."""
