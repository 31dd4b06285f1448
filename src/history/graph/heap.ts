/** A binary min-heap of revision indices, ordered by id: topologicalOrder's queue, ties broken by id in O(log n). */
export class MinHeap {
  private a: number[] = [];
  constructor(private readonly ids: readonly string[]) {}
  get size(): number {
    return this.a.length;
  }
  push(v: number): void {
    const { a, ids } = this;
    const key = ids[v];
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (ids[a[p]] <= key) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const { a, ids } = this;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      const key = ids[last];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const m = r < a.length && ids[a[r]] < ids[a[l]] ? r : l;
        if (ids[a[m]] >= key) break;
        a[i] = a[m];
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}
