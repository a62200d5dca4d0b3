"""Clinic appointments on the server: timetables, slots, holds, bookings that never overbook."""
