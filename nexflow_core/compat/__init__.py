"""The upgrade-safety gate (`nexflow baseline`, `nexflow compat`): what a new release of the
sources changes for the jobs and streams of the one running. A tool stage: it reads the
checker's results, interface files and the generator's model; nothing below imports it.

- `contract.contract_findings(baseline_interfaces, current)`: the streams' and stores' record
  schemas against the baseline release, under their compatibility modes (NX621–NX628)."""
