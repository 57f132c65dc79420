// The Node.js flags every Tide controller runs with: `charts/tide` (values.yaml `nodeFlags`), `make run`,
// the tests and the benchmarks start `node <flags> …/controllers/<name>/main.*` with them.
//
// A controller allocates in short bursts (a reconcile's YAML, JSON and tar buffers) between long idle
// times. V8 grows its young generation up to 16 MiB semi-spaces for such bursts and keeps the pages;
// 1 MiB semi-spaces cost a few more scavenges and save 15 to 50 MiB of resident memory per controller.
// --optimize-for-size makes the old generation grow in smaller steps (its live data is small: about
// 17 MiB after 1000 Kustomizations): at 1000 pairs the kustomize-controller's peak RSS went from 166 to
// 107 MiB for about 15 % more of its CPU, with no cap that a large repository could hit.
export const nodeFlags: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size'];
