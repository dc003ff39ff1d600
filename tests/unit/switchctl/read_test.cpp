// Reading the switch through the fake: values of the wrong type and varbind exceptions are errors
// naming the switch, the object and the port (never a silent 0).
#include <gtest/gtest.h>

#include "fake_snmp.hpp"
#include "shelf_fixture.hpp"
#include "switchctl/controller.hpp"
#include "switchctl/mib.hpp"

namespace picluster::switchctl {
namespace {

using testing::FakeClock;
using testing::FakeSnmp;

using testing::Rig;

TEST(ReadTypes, PvidServedAsAStringIsAnErrorNotPvidZero) {
  Rig rig;
  rig.fake.put(oid_cat(mib::dot1qPvid, {2}), Value::octets("2"));
  auto c = rig.make();
  auto rows = c.port_status();
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code, ErrorCode::snmp);
  EXPECT_EQ(rows.error().message,
            "switch 127.0.0.1:16161: read VLANs: dot1qPvid.2 (port 2): OCTET STRING \"2\" where an integer "
            "was expected");
}

TEST(ReadTypes, PortListServedAsAnIntegerIsAnError) {
  Rig rig;
  rig.fake.put(oid_cat(mib::dot1qVlanStaticEgressPorts, {1}), Value::integer(255));
  auto c = rig.make();
  auto plan = c.plan();
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message,
            "switch 127.0.0.1:16161: read VLANs: dot1qVlanStaticEgressPorts.1: INTEGER 255 where an OCTET "
            "STRING was expected");
}

TEST(ReadTypes, PoeAdminOfTheWrongTypeNamesTheFrontPanelPort) {
  Rig rig;
  rig.fake.put(oid_cat(mib::pethPsePortAdminEnable, {1, 4}), Value::octets("on"));
  auto c = rig.make();
  auto state = c.read_state();
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().message,
            "switch 127.0.0.1:16161: read port map: pethPsePortAdminEnable.1.4 (port 4): OCTET STRING \"on\" "
            "where an integer was expected");
}

TEST(ReadTypes, BridgePortIfIndexOfTheWrongTypeNamesTheBridgePort) {
  Rig rig;
  rig.fake.put(oid_cat(mib::dot1dBasePortIfIndex, {3}), Value::octets("gi3"));
  auto c = rig.make();
  auto state = c.read_state();
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().message,
            "switch 127.0.0.1:16161: read port map: dot1dBasePortIfIndex.3 (bridge port 3): OCTET STRING "
            "\"gi3\" where an integer was expected");
}

TEST(ReadTypes, NoSuchInstanceInAPoeReadIsAnError) {
  Rig rig;
  rig.fake.data.erase(oid_cat(mib::pethPsePortDetectionStatus, {1, 3}));
  auto c = rig.make();
  auto r = c.power("pi03", PowerAction::status, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::snmp);
  EXPECT_EQ(r.error().message,
            "switch 127.0.0.1:16161: pi03: read PoE of port 3: pethPsePortDetectionStatus.1.3 (port 3): "
            "noSuchInstance");
}

// Answers GETs for one OID with a varbind exception; walks see the real table.
class ExceptionOnGet final : public SnmpSession {
 public:
  ExceptionOnGet(SnmpSession& inner, Oid oid, ValueType exception)
      : m_inner(inner), m_oid(std::move(oid)), m_exception(exception) {}
  [[nodiscard]] std::string endpoint() const override { return m_inner.endpoint(); }
  Result<std::vector<VarBind>> get(const std::vector<Oid>& oids) override {
    auto r = m_inner.get(oids);
    if (r) {
      for (auto& vb : *r) if (vb.oid == m_oid) vb.value = Value::exception(m_exception);
    }
    return r;
  }
  Result<std::vector<VarBind>> get_next(const std::vector<Oid>& oids) override { return m_inner.get_next(oids); }
  Result<std::vector<VarBind>> get_bulk(const std::vector<Oid>& oids, int n, int m) override {
    return m_inner.get_bulk(oids, n, m);
  }
  Result<PduStatus> set(const std::vector<VarBind>& varbinds) override { return m_inner.set(varbinds); }
  [[nodiscard]] SessionStats stats() const override { return m_inner.stats(); }

 private:
  SnmpSession& m_inner;
  Oid m_oid;
  ValueType m_exception;
};

TEST(ReadTypes, NoSuchObjectInAPoeReadIsAnError) {
  Rig rig;
  ExceptionOnGet session(rig.fake, oid_cat(mib::pethPsePortAdminEnable, {1, 3}), ValueType::no_such_object);
  auto c = SwitchController::create(rig.shelf, session, rig.clock);
  ASSERT_TRUE(c);
  auto r = c->power("pi03", PowerAction::status, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "switch 127.0.0.1:16161: pi03: read PoE of port 3: pethPsePortAdminEnable.1.3 (port 3): "
            "noSuchObject");
}

TEST(ReadTypes, CiscoAccessVlanOfTheWrongTypeNamesThePort) {
  Rig rig;
  rig.shelf.switch_.profile = "cisco";
  rig.fake = testing::fresh_cisco(24);
  rig.fake.put(oid_cat(mib::vmVlan, {106}), Value::octets("10"));
  auto c = rig.make();
  auto state = c.read_state();
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().message,
            "switch 127.0.0.1:16161: read VLANs: vmVlan.106 (port 6): OCTET STRING \"10\" where an integer "
            "was expected");
}

TEST(ReadTypes, CiscoPowerDrawnOfTheWrongTypeNamesThePort) {
  Rig rig;
  rig.shelf.switch_.profile = "cisco";
  rig.fake = testing::fresh_cisco(24);
  rig.fake.put(oid_cat(mib::cpeExtPsePortPwrConsumption, {1, 7}), Value::octets("4.2W"));
  auto c = rig.make();
  auto state = c.read_state();
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().message,
            "switch 127.0.0.1:16161: read VLANs: cpeExtPsePortPwrConsumption.1.7 (port 7): OCTET STRING "
            "\"4.2W\" where an integer was expected");
}

}  // namespace
}  // namespace picluster::switchctl
