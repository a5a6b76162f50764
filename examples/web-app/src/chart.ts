/** A live training chart on a canvas: loss per step (left axis) and held-out accuracy per epoch (right axis, 0-100%). */
export class TrainingChart {
  private losses: number[] = [];
  private accuracies: Array<{ step: number; value: number }> = [];
  private totalSteps = 1;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.draw();
  }

  reset(totalSteps: number): void {
    this.losses = [];
    this.accuracies = [];
    this.totalSteps = Math.max(1, totalSteps);
    this.draw();
  }

  addLoss(loss: number): void {
    this.losses.push(loss);
    this.draw();
  }

  addAccuracy(step: number, value: number): void {
    this.accuracies.push({ step, value });
    this.draw();
  }

  private draw(): void {
    const { canvas } = this;
    const context = canvas.getContext('2d')!;
    const { width, height } = canvas;
    const pad = { left: 48, right: 48, top: 30, bottom: 28 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    context.clearRect(0, 0, width, height);
    context.font = '12px system-ui, sans-serif';
    context.strokeStyle = '#d0d7de';
    context.strokeRect(pad.left, pad.top, plotW, plotH);
    const maxLoss = Math.max(0.1, ...this.losses);
    const x = (step: number) => pad.left + (step / this.totalSteps) * plotW;
    context.fillStyle = '#57606a';
    context.textAlign = 'right';
    context.fillText(maxLoss.toFixed(2), pad.left - 6, pad.top + 10);
    context.fillText('0', pad.left - 6, pad.top + plotH);
    context.textAlign = 'left';
    context.fillText('100%', pad.left + plotW + 6, pad.top + 10);
    context.fillText('0%', pad.left + plotW + 6, pad.top + plotH);
    context.textAlign = 'center';
    context.fillText(`step (of ${this.totalSteps})`, pad.left + plotW / 2, height - 8);
    if (this.losses.length) {
      context.strokeStyle = '#cf222e';
      context.lineWidth = 2;
      context.beginPath();
      this.losses.forEach((loss, i) => {
        const px = x(i + 1);
        const py = pad.top + plotH * (1 - loss / maxLoss);
        if (i === 0) context.moveTo(px, py);
        else context.lineTo(px, py);
      });
      context.stroke();
    }
    context.fillStyle = '#0969da';
    context.strokeStyle = '#0969da';
    context.beginPath();
    this.accuracies.forEach(({ step, value }, i) => {
      const py = pad.top + plotH * (1 - value);
      if (i === 0) context.moveTo(x(step), py);
      else context.lineTo(x(step), py);
    });
    context.stroke();
    for (const { step, value } of this.accuracies) {
      context.beginPath();
      context.arc(x(step), pad.top + plotH * (1 - value), 4, 0, 2 * Math.PI);
      context.fill();
    }
    // The legend, above the plot (inside it, the accuracy line climbs into any corner it could take).
    context.textAlign = 'left';
    context.fillStyle = '#cf222e';
    const lossLabel = '— training loss (left axis)';
    context.fillText(lossLabel, pad.left, pad.top - 12);
    context.fillStyle = '#0969da';
    context.fillText('● held-out accuracy (right axis)', pad.left + context.measureText(lossLabel).width + 24, pad.top - 12);
  }
}
