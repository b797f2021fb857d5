// TkmsCommittee against a real anvil: a 4-member committee (t = 3) grows to 5 (t = 4) through a
// proposal approved by 3 current operators, then shrinks back to 4 with one operator removed; each
// member's Ed25519 binding is checked from the events with @noble/curves as a node would; approvals
// by non-members, double approvals, stale proposals and thresholds below the rule revert with their
// custom errors. Prints the gas of each call (docs/chain.md).
import assert from 'node:assert/strict';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import { AbiCoder, keccak256, getBytes } from 'ethers';
import { startAnvil, fundedWallet, deployWithReceipt, send, expectRevert, printGasTable, CHAIN_ID } from './anvil.mjs';

let passed = 0;
const ok = (what) => {
  passed++;
  console.log(`ok ${what}`);
};
const MEMBER = 'tuple(address operator, bytes32 ed25519, bytes32 x25519, string endpoint, bytes binding)[]';

// What a member's Ed25519 key signs (docs/chain.md), written independently of the contract's view.
function bindingMessage(operator, ed, xk, endpoint) {
  const be64 = new Uint8Array(8);
  new DataView(be64.buffer).setBigUint64(0, BigInt(CHAIN_ID));
  return new Uint8Array([
    ...new TextEncoder().encode('TKMS-V1-CHAIN-MEMBER'), ...be64, ...getBytes(operator), ...ed, ...xk,
    ...new TextEncoder().encode(endpoint),
  ]);
}

async function operator(provider, i) {
  const wallet = await fundedWallet(provider);
  const edSk = randomBytes(32);
  const ed = ed25519.getPublicKey(edSk);
  const xk = x25519.getPublicKey(randomBytes(32));
  const endpoint = `https://kms${i}.example.org:7000`;
  const binding = ed25519.sign(bindingMessage(wallet.address, ed, xk, endpoint), edSk);
  const member = { operator: wallet.address, ed25519: '0x' + bytesToHex(ed), x25519: '0x' + bytesToHex(xk), endpoint, binding: '0x' + bytesToHex(binding) };
  return { wallet, member };
}

// A node's checks on a committee read from the chain: the members hash and every binding.
function checkMembers(committeeEvent, want) {
  const members = committeeEvent.args.members.map((m) => ({
    operator: m.operator, ed25519: m.ed25519, x25519: m.x25519, endpoint: m.endpoint, binding: m.binding,
  }));
  assert.deepEqual(members, want.map((o) => o.member));
  for (const m of members)
    assert.ok(ed25519.verify(hexToBytes(m.binding.slice(2)),
      bindingMessage(m.operator, hexToBytes(m.ed25519.slice(2)), hexToBytes(m.x25519.slice(2)), m.endpoint),
      hexToBytes(m.ed25519.slice(2))), 'binding verifies');
  return keccak256(AbiCoder.defaultAbiCoder().encode([MEMBER], [members]));
}

const events = (c, receipt, name) => receipt.logs.map((l) => c.interface.parseLog(l)).filter((e) => e && e.name === name);

const chain = await startAnvil();
try {
  const { provider } = chain;
  const ops = [];
  for (let i = 0; i < 6; i++) ops.push(await operator(provider, i));
  const outsider = await fundedWallet(provider);
  const deployer = await fundedWallet(provider);

  // ---- genesis: 4 members, t = 3 ----
  const c0 = ops.slice(0, 4);
  const { contract: com, receipt: rDeploy } = await deployWithReceipt('TkmsCommittee', deployer, 0, 3, false, c0.map((o) => o.member));
  const g = events(com, rDeploy, 'CommitteeProposed')[0];
  const gh = checkMembers(g, c0);
  const gc = events(com, rDeploy, 'CommitteeChanged')[0];
  assert.equal(gc.args.epoch, 0n);
  assert.equal(gc.args.proposalId, g.args.id);
  assert.equal(gc.args.membersHash, gh);
  assert.deepEqual([await com.epoch(), await com.threshold(), await com.memberCount(), await com.membersHash()], [0n, 3n, 4n, gh]);
  for (let i = 0; i < 4; i++) assert.deepEqual([...(await com.isOperator(ops[i].wallet.address))], [true, BigInt(i)]);
  assert.equal((await com.isOperator(ops[4].wallet.address))[0], false);
  const m0 = ops[0].member;
  assert.equal(await com.bindingMessage(m0.operator, m0.ed25519, m0.x25519, m0.endpoint),
    '0x' + bytesToHex(bindingMessage(m0.operator, hexToBytes(m0.ed25519.slice(2)), hexToBytes(m0.x25519.slice(2)), m0.endpoint)));
  ok('genesis: 4 members, t = 3, bindings verify, views, bindingMessage = independent encoding');

  // ---- refusals of malformed proposals and thresholds ----
  const c1 = ops.slice(0, 5);
  const m1 = c1.map((o) => o.member);
  const as = (i) => com.connect(ops[i].wallet);
  await expectRevert(com, 'NotOperator', () => com.connect(ops[4].wallet).propose(4, false, m1));
  await expectRevert(com, 'NotOperator', () => com.connect(outsider).propose(4, false, m1));
  await expectRevert(com, 'ThresholdBelowDefault', () => as(0).propose(3, false, m1)); // ceil(10/3) = 4
  await expectRevert(com, 'ThresholdBelowFloor', () => as(0).propose(2, true, m1)); // floor(5/2)+1 = 3
  await expectRevert(com, 'ThresholdBelowFloor', () => as(0).propose(1, true, m1));
  await expectRevert(com, 'ThresholdOutOfRange', () => as(0).propose(6, false, m1));
  await expectRevert(com, 'ThresholdOutOfRange', () => as(0).propose(0, true, m1));
  await expectRevert(com, 'MemberCount', () => as(0).propose(1, false, []));
  await expectRevert(com, 'DuplicateOperator', () => as(0).propose(4, false, [...m1.slice(0, 4), { ...m1[4], operator: m1[1].operator }]));
  await expectRevert(com, 'DuplicateKey', () => as(0).propose(4, false, [...m1.slice(0, 4), { ...m1[4], ed25519: m1[2].ed25519 }]));
  await expectRevert(com, 'ZeroOperator', () => as(0).propose(4, false, [...m1.slice(0, 4), { ...m1[4], operator: '0x' + '00'.repeat(20) }]));
  await expectRevert(com, 'BadKey', () => as(0).propose(4, false, [...m1.slice(0, 4), { ...m1[4], x25519: '0x' + '00'.repeat(32) }]));
  await expectRevert(com, 'BadEndpoint', () => as(0).propose(4, false, [...m1.slice(0, 4), { ...m1[4], endpoint: '' }]));
  await expectRevert(com, 'BadEndpoint', () => as(0).propose(4, false, [...m1.slice(0, 4), { ...m1[4], endpoint: 'x'.repeat(257) }]));
  await expectRevert(com, 'BadBinding', () => as(0).propose(4, false, [...m1.slice(0, 4), { ...m1[4], binding: '0x' + '11'.repeat(63) }]));
  ok('refusals: non-member proposer, t below ceil(2n/3) without override, below floor(n/2)+1 even with it, out of range, member shape');

  // ---- 4 -> 5 members, t 3 -> 4: propose by op0, approvals by op1 and op2 ----
  // A competing proposal for the same epoch, with the low threshold allowed by the override.
  const rLow = await send('propose (5 members, t = 3 with override)', as(3).propose(3, true, m1));
  const lowId = events(com, rLow, 'CommitteeProposed')[0].args.id;
  const rP = await send('propose (5 members, t = 4)', as(0).propose(4, false, m1));
  const prop = events(com, rP, 'CommitteeProposed')[0];
  const id = prop.args.id;
  assert.equal(prop.args.epoch, 0n);
  assert.equal(prop.args.proposer, ops[0].wallet.address);
  const ph = checkMembers(prop, c1);
  assert.equal(id, await com.proposalId(0, 4, false, ph));
  assert.deepEqual([...(await com.getProposal(id))].slice(0, 4), [0n, 4n, 1n, ph]);
  await expectRevert(com, 'ProposalExists', () => as(1).propose(4, false, m1));
  await expectRevert(com, 'AlreadyApproved', () => as(0).approve(id));
  await expectRevert(com, 'NotOperator', () => com.connect(ops[4].wallet).approve(id)); // a joining member is not yet one
  await expectRevert(com, 'NotOperator', () => com.connect(outsider).approve(id));
  await expectRevert(com, 'UnknownProposal', () => as(1).approve('0x' + bytesToHex(randomBytes(32))));
  const rA1 = await send('approve (not final)', as(1).approve(id));
  assert.equal(events(com, rA1, 'ProposalApproved')[0].args.approvals, 2n);
  assert.equal(events(com, rA1, 'CommitteeChanged').length, 0);
  assert.equal(await com.hasApproved(id, ops[1].wallet.address), true);
  assert.equal(await com.hasApproved(id, ops[2].wallet.address), false);
  assert.equal(await com.epoch(), 0n);
  const rA2 = await send('approve (final: 4 -> 5 members)', as(2).approve(id));
  const ch = events(com, rA2, 'CommitteeChanged')[0];
  assert.deepEqual([ch.args.epoch, ch.args.proposalId, ch.args.threshold, ch.args.memberCount, ch.args.membersHash], [1n, id, 4n, 5n, ph]);
  assert.deepEqual([await com.epoch(), await com.threshold(), await com.memberCount(), await com.membersHash(), await com.currentProposal()], [1n, 4n, 5n, ph, id]);
  for (let i = 0; i < 5; i++) assert.deepEqual([...(await com.isOperator(ops[i].wallet.address))], [true, BigInt(i)]);
  ok('4 -> 5: proposed by one operator, final with the 3rd approval, CommitteeChanged(epoch 1, id, t 4, n 5, hash)');

  // ---- stale proposals ----
  await expectRevert(com, 'StaleProposal', () => as(3).approve(id));
  await expectRevert(com, 'StaleProposal', () => as(1).approve(lowId));
  ok('stale: the final proposal and the competing one of epoch 0 no longer take approvals');

  // ---- 5 -> 4: remove op0 (t = 3); needs 4 approvals of the epoch-1 committee ----
  const c2 = [ops[1], ops[2], ops[3], ops[5]];
  const rQ = await send('propose (4 members, t = 3)', com.connect(ops[4].wallet).propose(3, false, c2.map((o) => o.member)));
  const q = events(com, rQ, 'CommitteeProposed')[0];
  checkMembers(q, c2);
  await send('approve (not final)', as(0).approve(q.args.id));
  await send('approve (not final)', as(1).approve(q.args.id));
  await expectRevert(com, 'NotOperator', () => com.connect(ops[5].wallet).approve(q.args.id));
  const rQ3 = await send('approve (final: 5 -> 4 members)', as(2).approve(q.args.id));
  assert.equal(events(com, rQ3, 'CommitteeChanged')[0].args.epoch, 2n);
  assert.equal((await com.isOperator(ops[0].wallet.address))[0], false, 'removed');
  assert.equal((await com.isOperator(ops[4].wallet.address))[0], false, 'removed');
  assert.deepEqual([...(await com.isOperator(ops[5].wallet.address))], [true, 3n]);
  await expectRevert(com, 'NotOperator', () => as(0).propose(3, false, c2.map((o) => o.member)));
  ok('5 -> 4 with 4 approvals of epoch 1: removed operators can no longer propose or approve');
  printGasTable();
} finally {
  chain.stop();
}
console.log(`committee: ${passed} passed, 0 failed`);
