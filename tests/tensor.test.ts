import { describe, expect, it } from 'vitest';
import { createWeft, WeftError } from '../src/index.js';
import { expectWeftError } from './helpers.js';

describe('tensors', async () => {
  const weft = await createWeft({ backend: 'js' });

  it('tensor wraps without copying and copies the shape', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const shape = [2, 3];
    const t = weft.tensor(data, shape);
    expect(t.data).toBe(data);
    expect(t.shape).toEqual([2, 3]);
    shape[0] = 7;
    expect(t.shape).toEqual([2, 3]);
  });

  it('zeros and randn create the right sizes', () => {
    expect(weft.zeros([2, 0, 3]).data.length).toBe(0);
    expect(Array.from(weft.zeros([3]).data)).toEqual([0, 0, 0]);
    expect(weft.randn([4, 5], 1).data.length).toBe(20);
    expect(weft.randn([], 1).data.length).toBe(1);
  });

  it('rejects bad data and shapes with the right codes', () => {
    expectWeftError(() => weft.tensor([1, 2] as never, [2]), 'DTYPE', /Float32Array/);
    expectWeftError(() => weft.tensor(new Float32Array(2), [3]), 'SHAPE', /holds 3 elements but data has 2/);
    expectWeftError(() => weft.tensor(new Float32Array(2), [2.5]), 'SHAPE');
    expectWeftError(() => weft.tensor(new Float32Array(2), 'x' as never), 'SHAPE');
    expectWeftError(() => weft.zeros([Infinity]), 'SHAPE');
    expectWeftError(() => weft.zeros([2 ** 20, 2 ** 20]), 'MEMORY', /4 GiB/);
  });

  it('WeftError carries its code and name', () => {
    const err = new WeftError('RANGE', 'x');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('WeftError');
    expect(err.code).toBe('RANGE');
  });
});
