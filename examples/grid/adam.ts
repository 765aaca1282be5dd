// Adam (Kingma & Ba 2015) over Float32Array parameters, as torch.optim.Adam with its
// defaults (betas 0.9 / 0.999, eps 1e-8, no weight decay), updated in place.

export class Adam {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private step = 0;

  constructor(private readonly params: Float32Array[], private readonly lr = 1e-3, private readonly beta1 = 0.9, private readonly beta2 = 0.999, private readonly eps = 1e-8) {
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
  }

  /** One update from grads[k], the gradient of params[k]. */
  update(grads: Float32Array[]): void {
    this.step++;
    const { beta1, beta2, eps } = this;
    const correction1 = 1 - beta1 ** this.step, correction2 = 1 - beta2 ** this.step;
    this.params.forEach((p, k) => {
      const g = grads[k], m = this.m[k], v = this.v[k];
      if (g.length !== p.length) throw new Error(`Adam: gradient ${k} has ${g.length} values for ${p.length} parameters`);
      for (let i = 0; i < p.length; i++) {
        m[i] = beta1 * m[i] + (1 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        // p -= lr m̂ / (sqrt(v̂) + eps), m̂ and v̂ bias-corrected (torch.optim.Adam)
        p[i] -= (this.lr * (m[i] / correction1)) / (Math.sqrt(v[i] / correction2) + eps);
      }
    });
  }
}
