/**
 * IPv4 / IPv6 literals and CIDR blocks, as EventBridge's matcher reads them: an IPv4 address is a
 * dotted quad of decimal octets, an IPv6 address is hex groups and colons (with `::` compression;
 * no embedded dotted quad, no zone id). Addresses become (family, bigint) pairs so that ranges
 * compare numerically and differently-written forms of one address compare equal.
 */

export interface IpAddress {
    family: 4 | 6;
    value: bigint;
}

export interface CidrBlock {
    family: 4 | 6;
    low: bigint;
    high: bigint;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6_CHARS = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): bigint | undefined {
    const m = IPV4.exec(text);
    if (!m) return undefined;
    let value = 0n;
    for (let i = 1; i <= 4; i++) {
        const octet = Number(m[i]);
        if (octet > 255) return undefined;
        value = (value << 8n) | BigInt(octet);
    }
    return value;
}

function parseGroups(part: string): number[] | undefined {
    if (part === "") return [];
    const groups = part.split(":");
    const out: number[] = [];
    for (const g of groups) {
        if (!HEX_GROUP.test(g)) return undefined;
        out.push(parseInt(g, 16));
    }
    return out;
}

function parseIpv6(text: string): bigint | undefined {
    if (!IPV6_CHARS.test(text)) return undefined;
    const halves = text.split("::");
    if (halves.length > 2) return undefined;
    let groups: number[];
    if (halves.length === 2) {
        const head = parseGroups(halves[0]);
        const tail = parseGroups(halves[1]);
        if (!head || !tail || head.length + tail.length > 7) return undefined;
        groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
    } else {
        const all = parseGroups(text);
        if (!all || all.length !== 8) return undefined;
        groups = all;
    }
    let value = 0n;
    for (const g of groups) value = (value << 16n) | BigInt(g);
    return value;
}

/** Parses an IPv4 or IPv6 address literal; undefined when the text is not one. */
export function parseIp(text: string): IpAddress | undefined {
    if (text.length > 45 || text.length < 2) return undefined;
    const v4 = parseIpv4(text);
    if (v4 !== undefined) return { family: 4, value: v4 };
    const v6 = parseIpv6(text);
    if (v6 !== undefined) return { family: 6, value: v6 };
    return undefined;
}

/**
 * Parses a CIDR block. Returns an error text (without path) when malformed. Like EventBridge, the
 * mask must be below the address width (/0-/31 for IPv4, /0-/127 for IPv6): a single address is
 * matched with the address itself as an exact value.
 */
export function parseCidr(text: string): CidrBlock | string {
    const parts = text.split("/");
    if (parts.length !== 2) return `cidr ${JSON.stringify(text)} is malformed: exactly one "/" is required (e.g. "10.0.0.0/24")`;
    const [addrText, bitsText] = parts;
    if (!/^\d{1,3}$/.test(bitsText)) return `cidr ${JSON.stringify(text)} is malformed: the mask bits after "/" must be a non-negative integer`;
    const ip = parseIp(addrText);
    if (!ip) return `cidr ${JSON.stringify(text)} is malformed: ${JSON.stringify(addrText)} is not an IPv4 or IPv6 address`;
    const bits = Number(bitsText);
    const width = ip.family === 4 ? 32 : 128;
    if (bits >= width) {
        return `cidr ${JSON.stringify(text)}: IPv${ip.family} mask bits must be < ${width} (match a single address with the address as an exact value)`;
    }
    const hostBits = BigInt(width - bits);
    const hostMask = (1n << hostBits) - 1n;
    const low = ip.value & ~hostMask & ((1n << BigInt(width)) - 1n);
    return { family: ip.family, low, high: low | hostMask };
}

export function inCidr(block: CidrBlock, ip: IpAddress): boolean {
    return ip.family === block.family && ip.value >= block.low && ip.value <= block.high;
}
