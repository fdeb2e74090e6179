// Writes a POSIX ustar archive of browser File objects as a Blob, without reading them into memory: the Blob
// references the files, and fetch streams it. The gateway's tar upload takes a model directory this way.

const enc = new TextEncoder();

function header(name, size, mtime) {
  const b = new Uint8Array(512);
  let prefix = '';
  if (enc.encode(name).length > 100) {
    // ustar splits a long path at a '/' into prefix (155) and name (100)
    const cut = name.lastIndexOf('/', name.length - 1);
    for (let i = cut; i > 0; i = name.lastIndexOf('/', i - 1)) {
      if (enc.encode(name.slice(i + 1)).length <= 100 && enc.encode(name.slice(0, i)).length <= 155) {
        prefix = name.slice(0, i); name = name.slice(i + 1); break;
      }
    }
    if (!prefix) throw new Error('path too long for a tar archive: ' + name);
  }
  const put = (off, len, str) => b.set(enc.encode(str).subarray(0, len), off);
  const oct = (off, len, n) => put(off, len, n.toString(8).padStart(len - 1, '0') + '\0');
  put(0, 100, name);
  oct(100, 8, 0o644);
  oct(108, 8, 0);
  oct(116, 8, 0);
  oct(124, 12, size);
  oct(136, 12, Math.floor(mtime / 1000));
  b.fill(32, 148, 156); // checksum field counts as spaces
  b[156] = '0'.charCodeAt(0);
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  put(345, 155, prefix);
  let sum = 0;
  for (const x of b) sum += x;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return b;
}

/** files: [{path, file}] with paths relative to the directory's root. */
export function tarBlob(files) {
  const parts = [];
  for (const { path, file } of files) {
    parts.push(header(path, file.size, file.lastModified || Date.now()), file);
    const pad = (512 - (file.size % 512)) % 512;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(1024)); // two zero blocks end the archive
  return new Blob(parts, { type: 'application/x-tar' });
}
