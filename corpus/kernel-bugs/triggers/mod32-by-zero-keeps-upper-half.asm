# 32-bit modulo by zero: w0 keeps its low half and is zero-extended (RFC 9669), so r0 >> 32 is 0.
lddw r0, 0x100000005
mov r1, 0
mod32 r0, r1
rsh r0, 32
exit
