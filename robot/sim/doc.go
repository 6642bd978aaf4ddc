// Package sim is a simulated SO-101 arm: six Feetech STS3215 servos on one
// bus that answer the Feetech protocol byte for byte, on a pseudo-terminal
// (ServePTY: a program opens /dev/pts/N as it would open /dev/ttyACM0) or
// in-process without one (Port and Clock: the fast mode, where simulated
// time advances only when the caller sleeps on the Clock).
//
// # Servos
//
// Each servo has the STS3215's 256-byte control table (names and
// addresses from robot/feetech) with its factory values, except
// Return_Delay_Time 0 as LeRobot sets it (factory 250). The instructions:
//
//   - PING, READ, WRITE, REG_WRITE + ACTION, RESET, SYNC_READ, SYNC_WRITE.
//     A SYNC_READ is answered by each listed servo that exists, in the
//     listed order. Broadcast instructions (ID 0xFE) and unknown IDs get no
//     answer.
//   - A malformed instruction addressed to one servo (parameters that do
//     not fit it, a READ past the table, an unknown instruction code) is
//     answered with status bit 64 (instruction error) and no data; a
//     malformed broadcast is ignored. Bytes that are not a frame (bad
//     checksum, noise) are skipped, as the servo's receiver does.
//   - EEPROM (addresses below 40, and Maximum_Acceleration) and Lock: as
//     the Feetech manual describes its write lock, a write to EEPROM takes
//     effect at once whatever Lock says; with Lock = 0 it is also saved,
//     with Lock = 1 it is lost at power-off. PowerCycle switches the arm
//     off and on, so that a calibration written under Lock = 1 is seen to
//     vanish. Lock is 0 at power-up.
//   - RESET restores the factory table (ID and baud code kept, so the
//     servo stays reachable) and saves it; the servo stays where it is,
//     torque off.
//   - Writing Torque_Enable = 128 calibrates the middle: Homing_Offset
//     becomes encoder − 2048, so Present_Position reads 2048.
//   - Read-only bytes (firmware version, Model, the Present_* block) ignore
//     writes; an ID above 252 or a Baud_Rate code above 7 is refused. A
//     servo whose Baud_Rate code no longer matches the bus stops hearing it.
//   - Response_Status_Level (address 8) = 0 answers only PING and READ.
//
// # Physics
//
// The encoder is the servo's physical position, 0..4095 per turn.
// Present_Position = encoder − Homing_Offset, wrapped to 0..4095; Goal_Position
// is in the same frame and clamped to Min/Max_Position_Limit. With torque
// on (Operating_Mode 0) the servo drives toward the goal at up to
// Goal_Velocity steps/s (0 means the maximum, 3400 steps/s) with an
// acceleration of Acceleration × 100 steps/s² (0: unlimited), braking so as
// to stop on the goal. Operating_Mode 1 turns at Goal_Velocity. With torque
// off the servo stays where it is (gravity is ignored) unless moved by
// hand (SetEncoders). Physics advances in steps of at most 1 ms.
//
// Present_Load (0.1 % of full torque, sign-magnitude bit 10) is 3..15 %
// when moving freely, 0 at rest, and when something stops the servo (the
// world's gripper closing on a cube) 10 × the remaining error in steps ×
// P_Coefficient/32, capped by Torque_Limit and Max_Torque_Limit.
// Present_Current follows the load; Present_Voltage is 12.0 V sagging 0.5 V
// at full load. The temperature starts at 30 °C, rises with torque and load
// (0.5 °C/s at full load) and cools toward 30 °C (time constant 300 s).
//
// Status bits, in the Status register and every status packet: voltage (1)
// while Present_Voltage is outside Min/Max_Voltage; overheat (4) while the
// temperature is at or above Max_Temperature; overload (32) once the load
// has stayed above Overload_Torque % for Protection_Time × 10 ms (2 s),
// latched until torque is turned on again. As on the real servo, the bits
// named in Unloading_Condition (overheat and overload by default) cut the
// torque.
//
// # The world
//
// The arm's pose is told to the world after each physics step that moved
// it, and the gripper stops where the world's GripperLimit says (a cube
// between the fingers). The joint mapping, fixed: joint i (1..5 on the
// arm, index 0..4 in kin.Joints) is at (encoder − 2048) · 2π/4096 radians;
// the gripper opening is clamp((encoder − 2048)/1138, 0, 1), closed at
// 2048 and fully open (≈ 100°) at 3186. JointAngle, GripperOpening and
// their inverses are the one definition. A new arm stands in the
// calibration middle pose (every encoder 2048) with the gripper open 10 %.
//
// # Faults
//
// Options.Faults drops or corrupts status packets at random (seeded by
// Options.Seed, so the same seed and requests give the same faults), keeps
// one servo silent, makes one heat ten times faster, loses the torque-off
// writes to some servos (KeepTorque) or jams their joints where they stand
// (Jammed). SetFaults changes them while the simulator runs.
//
// # Timing on the pseudo-terminal
//
// Without wire timing, answers are written as soon as they are computed
// and the physics runs at the wall-clock time of each request. With
// Options.WireTiming, replies are paced as a half-duplex bus at
// Options.Baud would deliver them (see wire.go).
//
// A Sim is safe for concurrent use: one mutex guards the servos and the
// world.
package sim
