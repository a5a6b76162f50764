import type { PeftModel } from '@vpeft/core';

/** Trainable parameters of the model and their share of the backbone's. */
export function trainableSummary(model: PeftModel): string {
  const trainable = model.trainableParameters().reduce((n, p) => n + p.variable.size, 0);
  const backbone = model.parameters.list().filter((p) => p.owner === 'backbone').reduce((n, p) => n + p.variable.size, 0);
  return `${trainable.toLocaleString('en')} params (${((100 * trainable) / backbone).toFixed(2)}% of the backbone)`;
}

/** The confusion matrix as a table: rows are true classes, columns predicted ones. */
export function renderConfusion(table: HTMLTableElement, matrix: number[][], classNames: readonly string[]): void {
  table.replaceChildren();
  const head = table.insertRow();
  const corner = document.createElement('th');
  corner.textContent = 'true ↓ / predicted →';
  head.append(corner);
  for (const name of classNames) {
    const th = document.createElement('th');
    th.textContent = name;
    head.append(th);
  }
  const max = Math.max(1, ...matrix.flat());
  matrix.forEach((row, t) => {
    const tr = table.insertRow();
    const th = document.createElement('th');
    th.textContent = classNames[t] ?? String(t);
    tr.append(th);
    row.forEach((count, p) => {
      const cell = tr.insertCell();
      cell.textContent = String(count);
      const alpha = count / max;
      cell.style.background = t === p ? `rgba(31, 136, 61, ${alpha * 0.6})` : `rgba(207, 34, 46, ${alpha * 0.6})`;
    });
  });
}

/** Each image with its predicted class and probability. */
export function renderPredictions(
  container: HTMLElement,
  thumbnails: readonly string[],
  predictions: ReadonlyArray<{ label: number; probabilities: number[] }>,
  classNames: readonly string[],
): void {
  container.replaceChildren();
  predictions.forEach((prediction, i) => {
    const card = document.createElement('div');
    card.className = 'prediction';
    const img = document.createElement('img');
    img.src = thumbnails[i]!;
    const text = document.createElement('div');
    text.textContent = `${classNames[prediction.label] ?? prediction.label} · ${(100 * prediction.probabilities[prediction.label]!).toFixed(0)}%`;
    card.append(img, text);
    container.append(card);
  });
}
