import type { AdapterFiles } from '@vpeft/core';

/** Offers each file as a download (the browser saves them to its downloads folder). */
export function downloadFiles(files: AdapterFiles): void {
  for (const [name, bytes] of Object.entries(files) as Array<[string, Uint8Array]>) {
    const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: name.endsWith('.json') ? 'application/json' : 'application/octet-stream' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}
