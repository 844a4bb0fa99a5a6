// A cluster benchmark case under ranks (`node dist/run.js --np 2 --workers 1 --json THIS CASE N CHUNK SEED`):
// every rank runs it, compute() splits the chunks among the ranks; only compute() is timed, as on the cluster.
export default async ({ tessera, argv }) => {
  const [kase, nArg, chunkArg, seedArg] = argv;
  const n = Number(nArg);
  const chunk = Number(chunkArg);
  const build = () => {
    if (kase === "ones_tiny_tasks") return tessera.ones([n], { chunks: chunk }).sum();
    const x = tessera.random.random([n, n], { chunks: chunk, seed: Number(seedArg ?? 1) });
    if (kase === "random_mapblocks_add_sum") return x.mapBlocks((b) => b.add(1)).sum();
    if (kase === "random_mapblocks_add_sum_blocks") return x.mapBlocks((b) => b.add(1), { trace: false }).sum();
    throw new Error(`unknown case ${kase}`);
  };
  const t0 = performance.now();
  const result = await build().compute();
  return { result, seconds: (performance.now() - t0) / 1000 };
};
