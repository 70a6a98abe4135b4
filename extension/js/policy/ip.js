// IP addresses and networks parsed exactly as Python's `ipaddress` parses them (3.12 rules:
// no leading zeros in IPv4 octets, one `::` at most, an IPv4 tail allowed in IPv6). Pure.

const HEX = /^[0-9a-fA-F]{1,4}$/;

/** IPv4 text -> BigInt, or null when Python's IPv4Address would refuse it. */
export function parseIPv4(text) {
  const octets = text.split(".");
  if (octets.length !== 4) return null;
  let value = 0n;
  for (const octet of octets) {
    if (!/^[0-9]{1,3}$/.test(octet)) return null;
    if (octet !== "0" && octet[0] === "0") return null;
    const n = Number(octet);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** IPv6 text (no zone) -> BigInt, or null when Python's IPv6Address would refuse it. */
export function parseIPv6(text) {
  if (!text) return null;
  const parts = text.split(":");
  if (parts.length < 3) return null;
  if (parts[parts.length - 1].includes(".")) {
    const v4 = parseIPv4(parts.pop());
    if (v4 === null) return null;
    parts.push(((v4 >> 16n) & 0xffffn).toString(16), (v4 & 0xffffn).toString(16));
  }
  if (parts.length > 9) return null;
  let skip = null;
  for (let i = 1; i < parts.length - 1; i++) {
    if (!parts[i]) {
      if (skip !== null) return null;
      skip = i;
    }
  }
  let hi;
  let lo;
  let skipped;
  if (skip !== null) {
    hi = skip;
    lo = parts.length - skip - 1;
    if (!parts[0]) {
      hi -= 1;
      if (hi) return null;
    }
    if (!parts[parts.length - 1]) {
      lo -= 1;
      if (lo) return null;
    }
    skipped = 8 - (hi + lo);
    if (skipped < 1) return null;
  } else {
    if (parts.length !== 8) return null;
    if (!parts[0] || !parts[parts.length - 1]) return null;
    hi = parts.length;
    lo = 0;
    skipped = 0;
  }
  let value = 0n;
  for (let i = 0; i < hi; i++) {
    if (!HEX.test(parts[i])) return null;
    value = (value << 16n) | BigInt(parseInt(parts[i], 16));
  }
  value <<= 16n * BigInt(skipped);
  for (let i = parts.length - lo; i < parts.length; i++) {
    if (!HEX.test(parts[i])) return null;
    value = (value << 16n) | BigInt(parseInt(parts[i], 16));
  }
  return value;
}

/** Python's `ip_address(text)`: {version, value} or null. */
export function parseAddress(text) {
  const v4 = parseIPv4(text);
  if (v4 !== null) return { version: 4, value: v4 };
  const v6 = parseIPv6(text);
  if (v6 !== null) return { version: 6, value: v6 };
  return null;
}

/** Python's `ip_network(text)` (strict): {version, value, prefix}; throws on bad text. */
export function parseNetwork(text) {
  const [addr, prefixText] = text.split("/", 2);
  const address = parseAddress(addr);
  if (address === null) throw new Error(`not an IP network: ${text}`);
  const bits = address.version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) {
    throw new Error(`bad prefix length in ${text}`);
  }
  const shift = BigInt(bits - prefix);
  return { version: address.version, prefix, shift, network: address.value >> shift };
}

export function networkContains(net, address) {
  return net.version === address.version && address.value >> net.shift === net.network;
}

/** Python's `IPv6Address.ipv4_mapped` folded in: ::ffff:a.b.c.d becomes a.b.c.d. */
export function unmapped(address) {
  if (address.version === 6 && address.value >> 32n === 0xffffn) {
    return { version: 4, value: address.value & 0xffffffffn };
  }
  return address;
}
