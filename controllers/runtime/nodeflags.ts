// The Node.js flags every Tide controller runs with: `charts/tide` (values.yaml `nodeFlags`), `make run`,
// the tests and the benchmarks start `node <flags> …/controllers/<name>/main.*` with them.
//
// A controller allocates in short bursts (a reconcile's YAML, JSON and tar buffers) between long idle
// times. V8 grows its young generation up to 16 MiB semi-spaces for such bursts and keeps the pages;
// 1 MiB semi-spaces cost a few more scavenges and save 15 to 50 MiB of resident memory per controller.
export const nodeFlags: readonly string[] = ['--max-semi-space-size=1'];
