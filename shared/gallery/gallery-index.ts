/**
 * Every employee's gallery faces in memory, for the duplicate-identity check (issue 26):
 * the descriptors in one Float32Array, row after row, so a search is one pass over
 * contiguous memory instead of 100,000 objects. Pure: the loading, the removed faces and
 * the confirmation against the database are the caller's (duplicate-check.ts).
 */

/** One gallery face as the index receives it. */
export interface IndexedFace {
  /** face_descriptor.id: the order the index loads in. */
  descriptorId: number;
  trainImgId: number;
  lanId: string;
  /** The server's weight of the lan_id (db/lan-id-weight.ts): equal exactly when the database holds two spellings one employee. */
  lanIdWeight: string;
  descriptor: ArrayLike<number>;
}

/** A face of another employee within the bound: the closest one of that employee. */
export interface IndexHit {
  descriptorId: number;
  trainImgId: number;
  lanId: string;
  distance: number;
}

export interface SearchQuery {
  descriptor: ArrayLike<number>;
  /** The enrolling employee's weight: their own faces are never a duplicate. */
  lanIdWeight: string;
  /** Only faces closer than this count. */
  bound: number;
  /** Faces taken out of the gallery (gallery_removal), by train_img id. */
  removed: ReadonlySet<number>;
  /** At most this many employees, closest first. */
  limit: number;
}

export class GalleryIndex {
  readonly dims: number;
  private values: Float32Array;
  private employeeOf: Int32Array;
  private trainImgIds: Float64Array;
  private descriptorIds: Float64Array;
  /** Employee number (per weight) → a spelling of the lan_id, to report; weights → number. */
  private lanIds: string[] = [];
  private employees = new Map<string, number>();
  private count = 0;

  constructor(dims = 128, capacity = 1024) {
    this.dims = dims;
    this.values = new Float32Array(capacity * dims);
    this.employeeOf = new Int32Array(capacity);
    this.trainImgIds = new Float64Array(capacity);
    this.descriptorIds = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Appends faces; one of another length (another model's) is skipped and counted. */
  add(faces: Iterable<IndexedFace>): { added: number; skipped: number } {
    let added = 0;
    let skipped = 0;
    for (const f of faces) {
      if (f.descriptor.length !== this.dims) {
        skipped++;
        continue;
      }
      this.reserve(this.count + 1);
      const i = this.count++;
      this.values.set(f.descriptor, i * this.dims);
      this.employeeOf[i] = this.employee(f.lanIdWeight, f.lanId);
      this.trainImgIds[i] = f.trainImgId;
      this.descriptorIds[i] = f.descriptorId;
      added++;
    }
    return { added, skipped };
  }

  /**
   * Rows whose distance was summed over every dimension, over the index's life: what the
   * early abandon saves is counted, not timed (test/unit/gallery-index.test.ts).
   */
  fullDistances = 0;

  /**
   * The closest face of each of the nearest `limit` other employees closer than the bound,
   * closest first; equal distances in the order the faces were loaded. A row is abandoned
   * as soon as its partial sum (checked every 16 dimensions) passes the bound's square or,
   * once `limit` employees are found, the `limit`-th best of them: most faces are far, and
   * half a descriptor says so. Without a bound (the console's nearestMany) the second keeps
   * the scan from summing every face in full.
   */
  search(q: SearchQuery): IndexHit[] {
    if (q.descriptor.length !== this.dims) throw new Error(`descriptor of ${q.descriptor.length} values, the index holds ${this.dims}`);
    const dims = this.dims;
    const query = Float32Array.from(q.descriptor);
    const own = this.employees.get(q.lanIdWeight) ?? -1;
    const bound2 = q.bound * q.bound;
    const values = this.values;
    const limit = Math.max(0, q.limit);
    if (limit === 0) return [];
    // Employee number → the best row so far (the first at its distance).
    const best = new Map<number, { row: number; d2: number }>();
    // The `limit` best employees' distances, ascending: the last is the shrinking bound.
    // Made when the limit-th employee is met (never, when the limit exceeds the employees).
    let top: { who: number; d2: number }[] | undefined;
    const inTop = new Set<number>();
    // A row counts while its sum is below both. One at the k-th distance is abandoned too:
    // the k employees at or below it were all met on earlier rows, which win a tie.
    let cut = bound2;
    let full = 0;
    for (let row = 0; row < this.count; row++) {
      const who = this.employeeOf[row]!;
      if (who === own) continue;
      if (q.removed.has(this.trainImgIds[row]!)) continue;
      const base = row * dims;
      let sum = 0;
      let k = 0;
      while (k < dims) {
        const end = Math.min(dims, k + 16);
        for (; k < end; k++) {
          const d = values[base + k]! - query[k]!;
          sum += d * d;
        }
        if (sum >= cut) break;
      }
      if (k === dims) full++;
      if (sum >= cut) continue;
      const prev = best.get(who);
      if (prev && sum >= prev.d2) continue;
      best.set(who, { row, d2: sum });
      if (!top) {
        if (best.size < limit) continue;
        top = [...best].map(([w, b]) => ({ who: w, d2: b.d2 })).sort((a, b) => a.d2 - b.d2);
        for (const t of top) inTop.add(t.who);
      } else {
        if (inTop.has(who)) top.splice(top.findIndex((t) => t.who === who), 1);
        else inTop.delete(top.pop()!.who);
        let i = top.length;
        while (i > 0 && top[i - 1]!.d2 > sum) i--;
        top.splice(i, 0, { who, d2: sum });
        inTop.add(who);
      }
      cut = Math.min(bound2, top[limit - 1]!.d2);
    }
    this.fullDistances += full;
    return [...best.entries()]
      .sort((a, b) => a[1].d2 - b[1].d2 || a[1].row - b[1].row)
      .slice(0, limit)
      .map(([who, { row, d2 }]) => ({
        descriptorId: this.descriptorIds[row]!,
        trainImgId: this.trainImgIds[row]!,
        lanId: this.lanIds[who]!,
        distance: Math.sqrt(d2),
      }));
  }

  private employee(weight: string, lanId: string): number {
    let n = this.employees.get(weight);
    if (n === undefined) {
      n = this.lanIds.length;
      this.employees.set(weight, n);
      this.lanIds.push(lanId);
    }
    return n;
  }

  /** Doubling growth: 100,000 faces cost seven copies, not one per face. */
  private reserve(rows: number): void {
    if (rows <= this.employeeOf.length) return;
    let cap = this.employeeOf.length;
    while (cap < rows) cap *= 2;
    const values = new Float32Array(cap * this.dims);
    values.set(this.values);
    this.values = values;
    const employeeOf = new Int32Array(cap);
    employeeOf.set(this.employeeOf);
    this.employeeOf = employeeOf;
    const trainImgIds = new Float64Array(cap);
    trainImgIds.set(this.trainImgIds);
    this.trainImgIds = trainImgIds;
    const descriptorIds = new Float64Array(cap);
    descriptorIds.set(this.descriptorIds);
    this.descriptorIds = descriptorIds;
  }
}
